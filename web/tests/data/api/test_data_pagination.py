import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"


@pytest.fixture
def rows():
    return Data.objects.bulk_create(
        [Data(text=f"text {index}", label="libs") for index in range(12)]
    )


def test_default_page_size_comes_from_settings(api_client, rows, settings):
    settings.DATA_PAGE_SIZE = 5

    body = api_client.get(URL).json()

    assert body["count"] == 12
    assert [row["id"] for row in body["results"]] == [row.id for row in rows[:5]]
    assert body["previous"] is None
    assert body["next"].endswith("/api/data/?page=2")


def test_pages_walk_the_rows_in_id_order(api_client, rows):
    seen = []
    url = f"{URL}?page_size=5"
    while url:
        body = api_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == [row.id for row in rows]


def test_page_size_above_the_maximum_is_capped(api_client, rows, settings):
    settings.DATA_MAX_PAGE_SIZE = 4

    body = api_client.get(URL, {"page_size": 1000}).json()

    assert len(body["results"]) == 4
    assert body["count"] == 12


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", " 3", "٣", "1e3"])
@pytest.mark.parametrize("param", ["page_size", "page"])
def test_page_or_page_size_that_is_not_a_positive_integer_is_400(api_client, rows, param, value):
    response = api_client.get(URL, {param: value})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == f"Invalid input: {param}: A positive integer is required."
    assert param in body["errors"]


@pytest.mark.parametrize("huge", ["1001", "99999999999999999999999999999999"])
def test_a_huge_page_size_is_capped_at_the_maximum(api_client, rows, settings, huge):
    settings.DATA_MAX_PAGE_SIZE = 5

    response = api_client.get(URL, {"page_size": huge})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("huge", ["99", "99999999999999999999999999999999"])
def test_page_past_the_end_is_404(api_client, rows, huge):
    response = api_client.get(URL, {"page": huge})

    assert response.status_code == 404
    assert "detail" in response.json()


def test_empty_table_is_one_empty_page(api_client):
    assert api_client.get(URL).json() == {
        "count": 0,
        "count_exact": True,
        "next": None,
        "previous": None,
        "results": [],
    }


# A search counts its matches up to DATA_SEARCH_COUNT_CAP (or the requested page's end).


@pytest.fixture
def matches():
    """12 rows that `?search=needle` finds, and 3 that it does not."""
    found = Data.objects.bulk_create(
        [Data(text=f"needle {index}", label="libs") for index in range(12)]
    )
    Data.objects.bulk_create([Data(text=f"hay {index}", label="libs") for index in range(3)])
    return found


def test_a_search_under_the_cap_is_counted_exactly(api_client, matches, settings):
    settings.DATA_SEARCH_COUNT_CAP = 12

    body = api_client.get(f"{URL}?search=needle&page_size=5").json()

    assert (body["count"], body["count_exact"]) == (12, True)


def test_a_search_over_the_cap_says_more_than_the_cap_match(api_client, matches, settings):
    settings.DATA_SEARCH_COUNT_CAP = 10

    body = api_client.get(f"{URL}?search=needle&page_size=5").json()

    assert (body["count"], body["count_exact"]) == (10, False)
    assert [row["id"] for row in body["results"]] == [row.id for row in matches[:5]]


def test_pages_of_a_search_walk_past_the_cap(api_client, matches, settings):
    settings.DATA_SEARCH_COUNT_CAP = 4
    seen, counts = [], []
    url = f"{URL}?search=needle&page_size=5"
    while url:
        body = api_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        counts.append((body["count"], body["count_exact"]))
        url = body["next"]

    assert seen == [row.id for row in matches]
    # Each page counts up to its own end: the last one knows the total.
    assert counts == [(5, False), (10, False), (12, True)]


@pytest.mark.parametrize("page", ["4", "99999999999999999999999999999999"])
def test_a_search_page_past_the_matches_is_a_404(api_client, matches, settings, page):
    settings.DATA_SEARCH_COUNT_CAP = 4

    response = api_client.get(f"{URL}?search=needle&page_size=5&page={page}")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_lists_without_a_search_count_every_row(api_client, matches, settings):
    settings.DATA_SEARCH_COUNT_CAP = 4

    whole = api_client.get(f"{URL}?page_size=5").json()
    by_label = api_client.get(f"{URL}?label=libs&page_size=5").json()

    assert (whole["count"], whole["count_exact"]) == (15, True)
    assert (by_label["count"], by_label["count_exact"]) == (15, True)


def _page_query_settings(queries: list[dict]) -> list[str]:
    """The planner settings changed before the query that reads the page's rows."""
    page_index = next(i for i, q in enumerate(queries) if "bytes_through" in q["sql"])
    return [q["sql"] for q in queries[:page_index] if q["sql"].startswith("SET LOCAL")]


@pytest.mark.parametrize("mode", ["page=1", "cursor="])
@pytest.mark.parametrize(("cap", "walks_allowed"), [(12, False), (10, True)])
def test_a_search_with_few_matches_reads_its_page_through_the_index(
    api_client, matches, settings, mode, cap, walks_allowed
):
    # Postgres sometimes estimates a rare word as common (from its sample of texts) and walks
    # the primary key, reading most of the table; at or under the cap, a count says otherwise.
    settings.DATA_SEARCH_COUNT_CAP = cap
    with CaptureQueriesContext(connection) as captured:
        body = api_client.get(f"{URL}?search=needle&page_size=5&{mode}").json()

    assert [row["id"] for row in body["results"]] == [row.id for row in matches[:5]]
    forbidden = {"SET LOCAL enable_indexscan = off", "SET LOCAL enable_seqscan = off"}
    assert (set(_page_query_settings(captured.captured_queries)) == forbidden) != walks_allowed
    with connection.cursor() as cursor:  # and nothing after the page is planned that way
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone()[0] == "on"


def test_a_cursor_page_without_a_search_counts_nothing(api_client, matches):
    with CaptureQueriesContext(connection) as captured:
        api_client.get(f"{URL}?label=libs&page_size=5&cursor=")

    assert not any("COUNT(" in q["sql"] for q in captured.captured_queries)
