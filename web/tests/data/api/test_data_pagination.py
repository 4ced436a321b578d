import pytest

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
        "next": None,
        "previous": None,
        "results": [],
    }
