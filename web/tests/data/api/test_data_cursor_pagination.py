"""Keyset (cursor) paging: ?cursor= starts it, `next`/`previous` continue it."""

import base64

import pytest

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"


@pytest.fixture
def rows():
    return Data.objects.bulk_create(
        [
            Data(text=f"text {index}", label="even" if index % 2 == 0 else "odd")
            for index in range(12)
        ]
    )


def cursor_of(position: str) -> str:
    """A cursor as DRF encodes it (what a client might also craft)."""
    return base64.b64encode(f"p={position}".encode()).decode()


def test_an_empty_cursor_is_the_first_page_without_a_count(api_client, rows):
    body = api_client.get(URL, {"cursor": "", "page_size": 5}).json()

    assert set(body) == {"next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [row.id for row in rows[:5]]
    assert body["previous"] is None
    assert "cursor=" in body["next"]


def test_next_links_walk_every_row_once_in_id_order(api_client, rows):
    seen, url = [], f"{URL}?cursor=&page_size=5"
    while url:
        body = api_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == [row.id for row in rows]


def test_previous_goes_back_a_page(api_client, rows):
    second = api_client.get(api_client.get(URL, {"cursor": "", "page_size": 5}).json()["next"])

    back = api_client.get(second.json()["previous"]).json()

    assert [row["id"] for row in back["results"]] == [row.id for row in rows[:5]]


def test_a_cursor_at_an_id_continues_after_it(api_client, rows):
    body = api_client.get(URL, {"cursor": cursor_of(str(rows[6].id)), "page_size": 3}).json()

    assert [row["id"] for row in body["results"]] == [row.id for row in rows[7:10]]


def test_filters_combine_with_the_cursor(api_client, rows):
    body = api_client.get(URL, {"cursor": "", "label": "odd", "page_size": 100}).json()

    assert [row["id"] for row in body["results"]] == [row.id for row in rows[1::2]]
    assert body["next"] is None


def test_page_size_is_validated_and_capped_in_cursor_mode(api_client, rows, settings):
    settings.DATA_MAX_PAGE_SIZE = 4

    assert len(api_client.get(URL, {"cursor": "", "page_size": 999}).json()["results"]) == 4
    assert api_client.get(URL, {"cursor": "", "page_size": "0"}).status_code == 400


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-base64!", id="garbage"),
        pytest.param(base64.b64encode(b"\xff\xfe").decode(), id="not-utf8"),
        pytest.param(cursor_of("abc"), id="position-not-an-id"),
        pytest.param(cursor_of("1; DROP TABLE data"), id="sql-in-position"),
        pytest.param(cursor_of("9" * 30), id="position-out-of-range"),
        pytest.param(cursor_of("-5"), id="negative-position"),
    ],
)
def test_a_malformed_cursor_is_400(api_client, rows, cursor):
    response = api_client.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor."]}


def test_page_and_cursor_together_are_400(api_client, rows):
    response = api_client.get(URL, {"cursor": "", "page": 2})

    assert response.status_code == 400
    assert "page" in response.json()["errors"]
