"""No list page carries more than DATA_MAX_RESPONSE_BYTES of texts: cursor pages stop early
and `next`/`previous` continue from there; a numbered page over the cap is a 400."""

import pytest

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"
CAP = 10_000


@pytest.fixture
def cap(settings):
    settings.DATA_MAX_RESPONSE_BYTES = CAP
    return CAP


@pytest.fixture
def big_rows():
    """30 texts of 3,000 bytes each (1,500 two-byte characters): 90,000 bytes in all."""
    return Data.objects.bulk_create(
        [Data(text=f"{index:04d}" + "é" * 1498, label="l") for index in range(30)]
    )


def text_bytes(body: dict) -> int:
    return sum(len(row["text"].encode()) for row in body["results"])


def walk(api_client, url: str, link: str) -> list[dict]:
    pages = []
    while url:
        response = api_client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        url = pages[-1][link]
    return pages


def test_a_cursor_page_stops_at_the_cap(api_client, cap, big_rows):
    response = api_client.get(URL, {"cursor": "", "page_size": 1000})

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [row.id for row in big_rows[:3]]
    assert text_bytes(body) <= cap
    assert body["next"] is not None


def test_next_links_walk_every_row_once_with_no_page_over_the_cap(api_client, cap, big_rows):
    pages = walk(api_client, f"{URL}?cursor=&page_size=1000", "next")

    assert [row["id"] for page in pages for row in page["results"]] == [r.id for r in big_rows]
    assert all(text_bytes(page) <= cap for page in pages)
    texts = {row.id: row.text for row in big_rows}
    assert all(row["text"] == texts[row["id"]] for page in pages for row in page["results"])


def test_previous_links_walk_back_over_every_row_with_no_page_over_the_cap(
    api_client, cap, big_rows
):
    last = walk(api_client, f"{URL}?cursor=&page_size=1000", "next")[-1]
    pages = walk(api_client, last["previous"], "previous")

    seen = [row["id"] for page in reversed(pages) for row in page["results"]]
    assert seen + [row["id"] for row in last["results"]] == [r.id for r in big_rows]
    assert all(text_bytes(page) <= cap for page in pages)


def test_a_text_larger_than_the_cap_still_comes_one_per_page(api_client, settings, big_rows):
    settings.DATA_MAX_RESPONSE_BYTES = 100

    pages = walk(api_client, f"{URL}?cursor=&page_size=1000", "next")

    assert [len(page["results"]) for page in pages] == [1] * len(big_rows)


def test_pages_under_the_cap_are_unchanged(api_client, big_rows):
    body = api_client.get(URL, {"cursor": "", "page_size": 1000}).json()

    assert len(body["results"]) == len(big_rows)
    assert body["next"] is None


def test_a_numbered_page_over_the_cap_is_400(api_client, cap, big_rows):
    response = api_client.get(URL, {"page": 1, "page_size": 10})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"Invalid input: page_size: This page's texts exceed {cap} bytes "
        "(DATA_MAX_RESPONSE_BYTES): ask for a smaller page_size, or page with ?cursor= "
        "(its pages stop at the cap)."
    )


def test_a_numbered_page_within_the_cap_is_answered(api_client, cap, big_rows):
    response = api_client.get(URL, {"page": 4, "page_size": 3})

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [row.id for row in big_rows[9:12]]
    assert [row["text"] for row in body["results"]] == [row.text for row in big_rows[9:12]]
    assert body["count"] == len(big_rows)


def test_the_response_body_stays_near_the_cap(api_client, settings):
    """The whole response, not only its texts: a page of the largest texts."""
    settings.DATA_MAX_RESPONSE_BYTES = 1_000_000
    Data.objects.bulk_create([Data(text="x" * 100_000, label="l") for _ in range(30)])

    response = api_client.get(URL, {"cursor": "", "page_size": 1000})

    assert response.status_code == 200
    assert len(response.content) < 1_000_000 + 10_000
