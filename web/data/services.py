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

from data.models import Data, Feedback, Source
from data.search_index import request_indexing
from data.serializers import DataInputSerializer
from data.tabular import Row
from integrations.ml_service.client import get_ml_client
from integrations.ml_service.exceptions import MLServiceRejected
from observability.metrics import FEEDBACK


class DataItem(TypedDict):
    text: str
    label: str


def data_create(
    *,
    text: str,
    label: str,
    created_by=None,
    source: Source = Source.ENTERED,
    verified: bool = True,
) -> Data:
    """One row typed in by `created_by` (a person's label is trusted: verified)."""
    return Data.objects.create(
        text=text, label=label, created_by=created_by, source=source, verified=verified
    )


@transaction.atomic
def data_bulk_create(
    *, items: Sequence[DataItem], created_by=None, statement_timeout_ms: int | None = None
) -> list[Data]:
    """Insert every item or none of them; returns the rows in input order, with ids.

    One COPY instead of INSERT ... VALUES: the ids are taken from the table's sequence first
    (one query, in input order), then every row is streamed in one statement. The database
    still checks every constraint; the transaction makes it all or nothing.
    """
    now = timezone.now()
    # Left out of the trigram index, which data.search_index fills after commit; searches see
    # the rows meanwhile.
    in_background = settings.DATA_SEARCH_INDEX_IN_BACKGROUND
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if not in_background:
            # Should this statement merge the index's pending list, it sorts in work_mem.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        # DATABASE_STATEMENT_TIMEOUT_MS fits reads; 1,000 texts of 16 KB take seconds to index
        # when this statement indexes them (DATA_SEARCH_INDEX_IN_BACKGROUND off).
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
        copy_sql = (
            "COPY data (id, text, label, created_at, updated_at, source, created_by_id,"
            " verified, search_ready) FROM STDIN"
        )
        user_id = created_by.pk if created_by is not None else None
        search_ready = not in_background
        with cursor.cursor.copy(copy_sql) as copy:
            for data_id, item in zip(ids, items, strict=True):
                copy.write_row(
                    (
                        data_id,
                        item["text"],
                        item["label"],
                        now,
                        now,
                        Source.IMPORTED,
                        user_id,
                        True,
                        search_ready,
                    )
                )
    if in_background:
        # Runs once the outermost transaction commits (never for a rolled-back one).
        transaction.on_commit(request_indexing)
    return [
        Data(
            id=data_id,
            text=item["text"],
            label=item["label"],
            created_at=now,
            updated_at=now,
            source=Source.IMPORTED,
            created_by=created_by,
            verified=True,
            search_ready=search_ready,
        )
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
    *,
    rows: Sequence[Row],
    created_by=None,
    partial: bool = False,
    insert_timeout: float | None = None,
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
        _insert_within(valid, created_by, insert_timeout)
    return DataImportResult(rows=len(rows), created=len(valid) if save else 0, errors=errors)


def _insert_within(items: Sequence[DataItem], created_by, timeout: float | None) -> None:
    if timeout is not None and timeout < 0.001:
        raise DataImportTimedOut()
    try:
        with transaction.atomic():
            data_bulk_create(
                items=items,
                created_by=created_by,
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


def feedback_create(
    *, text: str, predicted_label: str, model_version: str, true_label: str, created_by
) -> Feedback:
    """Store a client's correction: `text` with its true label as an unverified `data` row
    (source feedback), and which version predicted what. Counted per version once committed.

    The version must be one the ML service knows (a ValidationError otherwise): the metric's
    label values stay the few versions staff trainings made, whatever a client sends.
    """
    try:
        get_ml_client().get_model(model_version)
    except MLServiceRejected as exc:
        if exc.status_code != 404:
            raise
        raise ValidationError({"model_version": ["No such model version."]}) from None
    correct = predicted_label == true_label
    with transaction.atomic():
        record = data_create(
            text=text,
            label=true_label,
            created_by=created_by,
            source=Source.FEEDBACK,
            verified=False,
        )
        feedback = Feedback.objects.create(
            data=record,
            predicted_label=predicted_label,
            model_version=model_version,
            correct=correct,
            created_by=created_by,
        )
        transaction.on_commit(
            lambda: FEEDBACK.labels(model_version, "true" if correct else "false").inc()
        )
    return feedback
