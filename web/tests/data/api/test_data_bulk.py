import pytest

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"


def test_bulk_create_saves_every_item_and_returns_them_in_order(api_client):
    items = [{"text": f"text {index}", "label": "libs"} for index in range(10)]

    response = api_client.post(URL, items)

    assert response.status_code == 201
    body = response.json()
    assert [(row["text"], row["label"]) for row in body] == [
        (item["text"], item["label"]) for item in items
    ]
    assert [row["id"] for row in body] == sorted(row["id"] for row in body)
    assert Data.objects.count() == 10


def test_bulk_create_of_real_rows_round_trips_exactly(api_client, real_rows):
    created = api_client.post(URL, real_rows)
    assert created.status_code == 201

    listed = api_client.get(URL, {"page_size": len(real_rows)}).json()

    assert listed["count"] == len(real_rows)
    assert [{"text": r["text"], "label": r["label"]} for r in listed["results"]] == real_rows


def test_one_bad_item_saves_nothing_and_is_reported_by_index(api_client):
    items = [
        {"text": "fine", "label": "libs"},
        {"text": "also fine", "label": "libs"},
        {"text": "   ", "label": "libs"},
        {"text": "fine again", "label": "libs", "extra": True},
    ]

    response = api_client.post(URL, items)

    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"2", "3"}
    assert "text" in body["errors"]["2"]
    assert "extra" in body["errors"]["3"]
    assert body["detail"] == "Invalid input: 2.text: This field may not be blank."
    assert Data.objects.count() == 0


def test_a_non_object_item_is_reported_by_index(api_client):
    response = api_client.post(URL, [{"text": "fine", "label": "libs"}, "oops"])

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1"}
    assert Data.objects.count() == 0


def test_empty_list_is_rejected(api_client):
    response = api_client.post(URL, [])

    assert response.status_code == 400
    assert "detail" in response.json()


def test_list_over_the_default_cap_is_rejected(api_client):
    items = [{"text": "t", "label": "l"}] * 1001

    response = api_client.post(URL, items)

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Invalid input: Ensure this field has no more than 1000 elements."
    )
    assert Data.objects.count() == 0


def test_list_of_exactly_the_cap_is_accepted(api_client, settings):
    settings.DATA_BULK_MAX_ITEMS = 3

    accepted = api_client.post(URL, [{"text": "t", "label": "l"}] * 3)
    rejected = api_client.post(URL, [{"text": "t", "label": "l"}] * 4)

    assert accepted.status_code == 201
    assert rejected.status_code == 400
    assert Data.objects.count() == 3


def test_one_oversized_item_in_a_full_batch_saves_nothing(api_client):
    items = [{"text": f"text {index}", "label": "libs"} for index in range(1000)]
    items[999] = {"text": "x" * 1_048_576, "label": "libs"}

    response = api_client.post(URL, items)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"999"}
    assert Data.objects.count() == 0
