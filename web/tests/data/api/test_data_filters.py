import pytest

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"


@pytest.fixture
def rows():
    return [
        Data.objects.create(text="Python bindings for libfoo", label="python"),
        Data.objects.create(text="Development files for LIBFOO", label="libdevel"),
        Data.objects.create(text="A text editor", label="editors"),
    ]


def ids(response) -> list[int]:
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_filter_by_label(api_client, rows):
    assert ids(api_client.get(URL, {"label": "editors"})) == [rows[2].id]


def test_search_is_a_case_insensitive_substring(api_client, rows):
    assert ids(api_client.get(URL, {"search": "LibFoo"})) == [rows[0].id, rows[1].id]


def test_filters_combine_with_pagination(api_client, rows):
    body = api_client.get(URL, {"search": "libfoo", "label": "libdevel", "page_size": 1}).json()

    assert body["count"] == 1
    assert body["results"][0]["id"] == rows[1].id


def test_blank_filters_are_ignored(api_client, rows):
    assert ids(api_client.get(URL, {"label": "", "search": ""})) == [row.id for row in rows]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"search": "a\x00b"}, "search"),
        ({"label": "a\x00b"}, "label"),
        ({"label": "x" * 101}, "label"),
    ],
)
def test_invalid_filter_values_are_400(api_client, rows, params, field):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("search", ["a", "ab", "%%", "  "])
def test_a_search_shorter_than_three_characters_is_400(api_client, rows, search):
    """The trigram index cannot narrow it: it would read every row."""
    response = api_client.get(URL, {"search": search})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input: search: A search needs at least 3 characters (or none).",
        "errors": {"search": ["A search needs at least 3 characters (or none)."]},
    }


def test_a_search_of_three_characters_is_answered(api_client, rows):
    assert ids(api_client.get(URL, {"search": "foo"})) == [rows[0].id, rows[1].id]


@pytest.mark.parametrize(
    "needle",
    [
        pytest.param("'; DROP TABLE data; --", id="sql-injection"),
        pytest.param("' OR '1'='1", id="sql-tautology"),
        pytest.param("100%", id="like-percent"),
        pytest.param("a_b", id="like-underscore"),
        pytest.param("C:\\x", id="backslash"),
        pytest.param("<script>alert(1)</script>", id="html"),
    ],
)
def test_search_and_label_are_literal_never_sql(api_client, rows, needle):
    literal = Data.objects.create(text=f"before {needle} after", label=needle)

    by_search = api_client.get(URL, {"search": needle})
    by_label = api_client.get(URL, {"label": needle})

    assert ids(by_search) == [literal.id]
    assert ids(by_label) == [literal.id]
    assert by_search.json()["results"][0]["text"] == f"before {needle} after"
    assert Data.objects.count() == len(rows) + 1


def test_search_finds_rtl_and_emoji_substrings(api_client, rows):
    record = Data.objects.create(text="مرحبا 👩‍💻 שלום", label="misc")

    assert ids(api_client.get(URL, {"search": "👩‍💻"})) == [record.id]
    assert ids(api_client.get(URL, {"search": "שלום"})) == [record.id]


@pytest.mark.parametrize("query", ["search=%FF%FE", "label=%C3%28", "page_size=%FF", "%FF=1"])
def test_invalid_utf8_in_the_query_string_is_never_a_5xx(api_client, rows, query):
    response = api_client.get(f"{URL}?{query}")

    assert response.status_code in (200, 400)
    assert response.json()
