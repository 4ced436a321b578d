"""Training job records in Postgres: the single source of truth for a job's state.

Transitions are guarded in SQL (queued -> running -> succeeded | failed; queued -> failed), so a
late or duplicate actor (a redelivered task, a reaped job) changes nothing, and each function
says with its return value whether it did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.errors import UniqueViolation
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

SINGLE_ACTIVE_INDEX = "training_job_single_active"
ERROR_MAX_LENGTH = 2000

_COLUMNS = (
    "id AS job_id, status, error, model_version, metrics, n_samples,"
    " created_at, started_at, finished_at"
)


@dataclass(frozen=True)
class Job:
    job_id: uuid.UUID
    status: str
    error: str | None
    model_version: str | None
    metrics: dict[str, Any] | None
    n_samples: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ActiveJobExists(Exception):
    """Another job is queued or running; only one may be at a time."""

    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__(f"Training job {job_id} is already queued or running.")
        self.job_id = job_id


def create(conn: psycopg.Connection) -> Job:
    """Insert a queued job, or raise ActiveJobExists naming the active one."""
    # The active job can finish between the failed insert and the look-up; then insert again.
    for _ in range(3):
        try:
            with conn.cursor(row_factory=class_row(Job)) as cur:
                cur.execute(
                    f"INSERT INTO training_job (id) VALUES (%s) RETURNING {_COLUMNS}",
                    [uuid.uuid4()],
                )
                return cur.fetchone()
        except UniqueViolation as exc:
            if exc.diag.constraint_name != SINGLE_ACTIVE_INDEX:
                raise
            active = get_active(conn)
            if active is not None:
                raise ActiveJobExists(active.job_id) from None
    raise RuntimeError("Could not create a training job: the active job kept changing.")


def get(conn: psycopg.Connection, job_id: uuid.UUID) -> Job | None:
    with conn.cursor(row_factory=class_row(Job)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM training_job WHERE id = %s", [job_id])
        return cur.fetchone()


def get_active(conn: psycopg.Connection) -> Job | None:
    with conn.cursor(row_factory=class_row(Job)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM training_job WHERE status IN ('queued', 'running')")
        return cur.fetchone()


def list_recent(conn: psycopg.Connection, *, limit: int) -> list[Job]:
    """Newest first."""
    with conn.cursor(row_factory=class_row(Job)) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM training_job ORDER BY created_at DESC, id LIMIT %s",
            [limit],
        )
        return cur.fetchall()


def mark_running(conn: psycopg.Connection, job_id: uuid.UUID) -> bool:
    return _update(
        conn,
        "SET status = 'running', started_at = now() WHERE id = %s AND status = 'queued'",
        [job_id],
    )


def mark_succeeded(
    conn: psycopg.Connection,
    job_id: uuid.UUID,
    *,
    model_version: str,
    metrics: dict[str, Any],
    n_samples: int,
) -> bool:
    return _update(
        conn,
        "SET status = 'succeeded', finished_at = now(), model_version = %s, metrics = %s,"
        " n_samples = %s, error = NULL WHERE id = %s AND status = 'running'",
        [model_version, Jsonb(metrics), n_samples, job_id],
    )


def mark_failed(
    conn: psycopg.Connection, job_id: uuid.UUID, *, error: str, n_samples: int | None = None
) -> bool:
    return _update(
        conn,
        "SET status = 'failed', finished_at = now(), error = %s,"
        " n_samples = COALESCE(%s, n_samples)"
        " WHERE id = %s AND status IN ('queued', 'running')",
        [_truncate(error), n_samples, job_id],
    )


def fail_abandoned(
    conn: psycopg.Connection, *, queued_for: timedelta, running_for: timedelta
) -> int:
    """Fail jobs no worker can still be working on, so they stop blocking new ones.

    A job running past the task's hard time limit was killed with its worker; a job queued
    this long lost its message (or the worker has been down all that time: its late task then
    finds the job failed and does nothing). Returns how many jobs were failed.
    """
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE training_job SET status = 'failed', finished_at = now(), error = CASE status"
            "  WHEN 'queued' THEN 'Abandoned: no worker started the job in time.'"
            "  ELSE 'Abandoned: the job outlived its time limit; its worker was probably lost.'"
            " END"
            " WHERE (status = 'queued' AND created_at < now() - %s)"
            "    OR (status = 'running' AND started_at < now() - %s)",
            [queued_for, running_for],
        )
        return cur.rowcount


def _update(conn: psycopg.Connection, assignment_and_filter: str, params: list[Any]) -> bool:
    with conn.cursor() as cur:
        cur.execute(f"UPDATE training_job {assignment_and_filter}", params)
        return cur.rowcount == 1


def _truncate(error: str) -> str:
    error = error.strip() or "Unknown error."
    if len(error) <= ERROR_MAX_LENGTH:
        return error
    return error[: ERROR_MAX_LENGTH - 1] + "…"
