import pytest
from django.db import IntegrityError

from data.models import Data
from data.services import data_bulk_create

pytestmark = pytest.mark.django_db


def test_data_bulk_create_inserts_all_items_in_order_with_ids():
    items = [{"text": f"text {index}", "label": f"label-{index % 3}"} for index in range(7)]

    records = data_bulk_create(items=items)

    assert [record.text for record in records] == [item["text"] for item in items]
    assert all(record.id is not None for record in records)
    assert list(Data.objects.order_by("id").values_list("text", flat=True)) == [
        item["text"] for item in items
    ]


def test_data_bulk_create_saves_nothing_when_the_database_rejects_one_item():
    items = [{"text": "fine", "label": "libs"}, {"text": "   ", "label": "libs"}]

    with pytest.raises(IntegrityError):
        data_bulk_create(items=items)

    assert Data.objects.count() == 0


def test_data_bulk_create_spans_several_insert_batches(monkeypatch):
    monkeypatch.setattr("data.services.BULK_INSERT_BATCH_SIZE", 2)
    items = [{"text": f"text {index}", "label": "libs"} for index in range(5)]

    records = data_bulk_create(items=items)

    assert len({record.id for record in records}) == 5
    assert Data.objects.count() == 5
