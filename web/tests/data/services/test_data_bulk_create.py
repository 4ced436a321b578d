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


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("tab\there\nnew line\r\nCRLF", id="control-characters"),
        pytest.param("\\N is not NULL, \\ stays \\", id="copy-escapes"),
        pytest.param("مرحبا 👩‍💻 \u202e shalom שלום", id="rtl-emoji"),
        pytest.param("  padded  ", id="padded"),
    ],
)
def test_data_bulk_create_stores_texts_exactly(text):
    [record] = data_bulk_create(items=[{"text": text, "label": "misc"}])

    stored = Data.objects.get(id=record.id)
    assert stored.text == text
    assert (stored.created_at, stored.updated_at) == (record.created_at, record.updated_at)


def test_data_bulk_create_ids_continue_the_tables_sequence():
    before = Data.objects.create(text="single", label="libs")

    records = data_bulk_create(items=[{"text": "a", "label": "l"}, {"text": "b", "label": "l"}])
    after = Data.objects.create(text="single again", label="libs")

    assert before.id < records[0].id < records[1].id < after.id
