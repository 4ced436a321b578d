"""Writes to the `data` table. Callers pass validated values; the database enforces the rest."""

from collections.abc import Sequence
from typing import TypedDict

from django.db import transaction

from data.models import Data

# Rows per INSERT statement: bounds statement size for long texts; the transaction still
# makes a bulk request all-or-nothing.
BULK_INSERT_BATCH_SIZE = 500


class DataItem(TypedDict):
    text: str
    label: str


def data_create(*, text: str, label: str) -> Data:
    return Data.objects.create(text=text, label=label)


@transaction.atomic
def data_bulk_create(*, items: Sequence[DataItem]) -> list[Data]:
    """Insert every item or none of them; returns the rows in input order, with ids."""
    rows = [Data(text=item["text"], label=item["label"]) for item in items]
    return Data.objects.bulk_create(rows, batch_size=BULK_INSERT_BATCH_SIZE)


def data_update(*, record: Data, text: str | None = None, label: str | None = None) -> Data:
    """Change the given fields (None = keep); `updated_at` moves only if something was sent."""
    changed = []
    if text is not None:
        record.text = text
        changed.append("text")
    if label is not None:
        record.label = label
        changed.append("label")
    if changed:
        record.save(update_fields=[*changed, "updated_at"])
    return record


def data_delete(*, record: Data) -> None:
    record.delete()
