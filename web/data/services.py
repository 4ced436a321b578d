"""Writes to the `data` table. Callers pass validated values; the database enforces the rest."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import psycopg
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from data.models import Data
from data.serializers import DataInputSerializer
from data.tabular import Row


class DataItem(TypedDict):
    text: str
    label: str


def data_create(*, text: str, label: str) -> Data:
    return Data.objects.create(text=text, label=label)


@transaction.atomic
def data_bulk_create(
    *, items: Sequence[DataItem], statement_timeout_ms: int | None = None
) -> list[Data]:
    """Insert every item or none of them; returns the rows in input order, with ids.

    One COPY instead of INSERT ... VALUES: the ids are taken from the table's sequence first
    (one query, in input order), then every row is streamed in one statement. The database
    still checks every constraint; the transaction makes it all or nothing.
    """
    now = timezone.now()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # The trigram index's pending list fills up every batch or so and is merged into the
        # index inside this statement, sorting in work_mem: 64 MB instead of the default 4 MB
        # makes bulk inserts faster (BENCHMARKS.md, "History").
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # DATABASE_STATEMENT_TIMEOUT_MS fits reads; 1,000 texts of 16 KB take seconds to index.
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true)",
            [str(statement_timeout_ms or settings.DATA_BULK_STATEMENT_TIMEOUT_MS)],
        )
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('data', 'id')) FROM generate_series(1, %s)",
            [len(items)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        # Django has no COPY; psycopg's cursor (under Django's wrapper) streams the rows.
        copy_sql = "COPY data (id, text, label, created_at, updated_at) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for data_id, item in zip(ids, items, strict=True):
                copy.write_row((data_id, item["text"], item["label"], now, now))
    return [
        Data(id=data_id, text=item["text"], label=item["label"], created_at=now, updated_at=now)
        for data_id, item in zip(ids, items, strict=True)
    ]


def data_update(*, record: Data, text: str | None = None, label: str | None = None) -> Data:
    """Change the given fields (None = keep); `updated_at` moves only if something was sent.

    One UPDATE by primary key: a row deleted since `record` was read (a concurrent DELETE)
    raises Data.DoesNotExist (the API's 404) instead of failing the save.
    """
    changes = {
        name: value for name, value in (("text", text), ("label", label)) if value is not None
    }
    if not changes:
        return record
    changes["updated_at"] = timezone.now()
    if not Data.objects.filter(pk=record.pk).update(**changes):
        raise Data.DoesNotExist(f"Data {record.pk} no longer exists.")
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def data_delete(*, record: Data) -> None:
    """Data.DoesNotExist (the API's 404) if another request deleted the row first."""
    deleted, _ = Data.objects.filter(pk=record.pk).delete()
    if not deleted:
        raise Data.DoesNotExist(f"Data {record.pk} no longer exists.")


class DataImportTimedOut(Exception):
    """The insert did not finish within its time; Postgres cancelled it, nothing was saved."""


@dataclass(frozen=True)
class DataImportResult:
    rows: int  # rows read (blank rows not counted)
    created: int
    errors: dict[int, dict[str, Any]]  # row number -> field -> messages


def data_import(
    *, rows: Sequence[Row], partial: bool = False, insert_timeout: float | None = None
) -> DataImportResult:
    """Validate every row exactly as POST /api/data/ validates an item, then save them all in
    one data_bulk_create, or none if any is invalid; `partial` saves the valid ones anyway.

    `insert_timeout` (seconds) bounds the insert: Postgres cancels it past that and the
    transaction saves nothing (DataImportTimedOut), so a caller never gets a gateway timeout
    for an import that then commits behind its back.
    """
    item = DataInputSerializer()  # one instance for every row, as a ListSerializer does
    valid: list[DataItem] = []
    errors: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.error is not None:
            errors[row.number] = {api_settings.NON_FIELD_ERRORS_KEY: [row.error]}
            continue
        try:
            valid.append(item.run_validation(row.values))
        except ValidationError as exc:
            errors[row.number] = exc.detail
    save = bool(valid) and (partial or not errors)
    if save:
        _insert_within(valid, insert_timeout)
    return DataImportResult(rows=len(rows), created=len(valid) if save else 0, errors=errors)


def _insert_within(items: Sequence[DataItem], timeout: float | None) -> None:
    if timeout is not None and timeout < 0.001:
        raise DataImportTimedOut()
    try:
        with transaction.atomic():
            data_bulk_create(
                items=items,
                statement_timeout_ms=None if timeout is None else max(1, int(timeout * 1000)),
            )
            if timeout is not None:
                with connection.cursor() as cursor:
                    # For whatever else the caller's transaction runs after this.
                    cursor.execute("SET LOCAL statement_timeout = DEFAULT")
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
            raise DataImportTimedOut() from exc
        raise
