"""Training job records in Postgres: the single source of truth for a job's state.

Transitions are guarded in SQL (queued -> running -> succeeded | failed; queued -> failed), so a
late or duplicate actor (a redelivered task, a reaped job) changes nothing, and each function
says with its return value whether it did.

The single-flight lock is the partial unique index (one queued-or-running row). Its lease is
`heartbeat_at`, renewed by the running task; each start takes a new `fence` number, and writes
by a run are guarded by its number, so a run that lost the lease can no longer touch the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
    " created_at, started_at, finished_at, attempts, stats, heartbeat_at, fence, worker, progress,"
    " outcome, note"
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
    attempts: int
    stats: dict[str, Any] | None
    heartbeat_at: datetime | None
    fence: int | None
    worker: str | None
    progress: dict[str, Any] | None = None
    # promoted | candidate | skipped, once succeeded; `note` says why.
    outcome: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Claim:
    """The outcome of a task's attempt to start a job.

    `fence` is set only when the job is now running for the caller; otherwise `reason` says
    why not (finished already, running elsewhere, given up, unknown).
    """

    fence: int | None
    attempts: int
    reason: str | None = None


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


def claim(
    conn: psycopg.Connection,
    job_id: uuid.UUID,
    *,
    worker: str,
    lease: timedelta,
    max_attempts: int,
    owner_is_gone: Callable[[str], bool],
) -> Claim:
    """Start the job for `worker`: queued -> running, with a new fence number and a fresh lease.

    A job already running is taken over only if its run is provably over: its lease expired, or
    `owner_is_gone(worker)` says its process no longer exists (a redelivery after the pool
    process was killed). Each start counts an attempt; one past `max_attempts` fails the job.
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT status, attempts, worker, heartbeat_at < now() - %s FROM training_job"
            " WHERE id = %s FOR UPDATE",
            [lease, job_id],
        ).fetchone()
        if row is None:
            return Claim(fence=None, attempts=0, reason="unknown job")
        status, attempts, owner, stale = row
        if status == "running" and not (stale or (owner is not None and owner_is_gone(owner))):
            return Claim(fence=None, attempts=attempts, reason=f"running in {owner}")
        if status not in ("queued", "running"):
            return Claim(fence=None, attempts=attempts, reason=f"already {status}")
        if attempts >= max_attempts:
            conn.execute(
                "UPDATE training_job SET status = 'failed', finished_at = now(), error = %s"
                " WHERE id = %s",
                [
                    f"gave up after {attempts} attempts: the worker running the job was lost "
                    "each time",
                    job_id,
                ],
            )
            return Claim(fence=None, attempts=attempts, reason="gave up")
        fence, attempts = conn.execute(
            "UPDATE training_job SET status = 'running', started_at = COALESCE(started_at, now()),"
            " heartbeat_at = now(), attempts = attempts + 1,"
            " fence = nextval('training_job_fence_seq'), worker = %s, progress = NULL"
            " WHERE id = %s RETURNING fence, attempts",
            [worker, job_id],
        ).fetchone()
        return Claim(fence=fence, attempts=attempts)


def renew_lease(conn: psycopg.Connection, job_id: uuid.UUID, *, fence: int) -> bool:
    """Extend the running job's lease; False once the job is no longer this run's."""
    return _update(
        conn,
        "SET heartbeat_at = now() WHERE id = %s AND status = 'running' AND fence = %s",
        [job_id, fence],
    )


def set_progress(
    conn: psycopg.Connection, job_id: uuid.UUID, *, fence: int, progress: dict[str, Any]
) -> bool:
    """Record the running job's progress; False (nothing written) once it is not this run's."""
    return _update(
        conn,
        "SET progress = %s WHERE id = %s AND status = 'running' AND fence = %s",
        [Jsonb(progress), job_id, fence],
    )


def holds_lease(conn: psycopg.Connection, job_id: uuid.UUID, *, fence: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM training_job WHERE id = %s AND status = 'running' AND fence = %s",
        [job_id, fence],
    ).fetchone()
    return row is not None


def mark_succeeded(
    conn: psycopg.Connection,
    job_id: uuid.UUID,
    *,
    fence: int,
    model_version: str,
    metrics: dict[str, Any],
    n_samples: int,
    stats: dict[str, Any],
    outcome: str | None = None,
    note: str | None = None,
) -> bool:
    return _update(
        conn,
        "SET status = 'succeeded', finished_at = now(), model_version = %s, metrics = %s,"
        " n_samples = %s, stats = %s, error = NULL, outcome = %s, note = %s"
        " WHERE id = %s AND status = 'running' AND fence = %s",
        [
            model_version,
            Jsonb(metrics),
            n_samples,
            Jsonb(stats),
            outcome,
            _truncate(note) if note else None,
            job_id,
            fence,
        ],
    )


def mark_failed(
    conn: psycopg.Connection,
    job_id: uuid.UUID,
    *,
    error: str,
    fence: int | None = None,
    n_samples: int | None = None,
    stats: dict[str, Any] | None = None,
) -> bool:
    """Fail an active job; with `fence`, only while that run still holds it."""
    fence_filter = " AND fence = %s" if fence is not None else ""
    return _update(
        conn,
        "SET status = 'failed', finished_at = now(), error = %s,"
        " n_samples = COALESCE(%s, n_samples), stats = COALESCE(%s, stats)"
        " WHERE id = %s AND status IN ('queued', 'running')" + fence_filter,
        [
            _truncate(error),
            n_samples,
            Jsonb(stats) if stats is not None else None,
            job_id,
            *([fence] if fence is not None else []),
        ],
    )


def fail_stale(conn: psycopg.Connection, *, lease: timedelta, queued_for: timedelta) -> int:
    """Fail jobs no worker is working on any more, so they stop blocking new ones.

    A running job whose heartbeat is older than `lease` lost its worker; a job queued longer
    than `queued_for` lost its message (or no worker ran all that time: the late task then finds
    the job failed and does nothing). Returns how many jobs were failed.
    """
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE training_job SET status = 'failed', finished_at = now(), error = CASE status"
            "  WHEN 'queued' THEN 'Abandoned: no worker started the job in time.'"
            "  ELSE format('worker lost (no heartbeat for %%s s)',"
            "              floor(extract(epoch FROM now() - heartbeat_at))::bigint)"
            " END"
            " WHERE (status = 'queued' AND created_at < now() - %s)"
            "    OR (status = 'running' AND heartbeat_at < now() - %s)",
            [queued_for, lease],
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
