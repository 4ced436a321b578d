"""A training run's progress: its phase and, where countable, done/total, on the job and in Flower.

The run calls its `Reporter` as often as it likes (after every batch of rows, say); the reporter
writes to the job row at once on a phase change and otherwise at most once per
MIN_INTERVAL_SECONDS, so a fast loop costs no more than one UPDATE a second. Writes are fenced
like lease renewals: once the job is no longer this run's, nothing more is written or announced.
Progress is never worth failing a training for: a failed write is logged and skipped.

Each written progress is also announced as a custom Celery event, `task-progress` (Celery's
`Task.send_event`, meant for monitors such as Flower). Flower keeps no field it does not know,
so the event sets the task's state to PROGRESS and its `result` field, the one free-text field
Flower shows in the task list and on the task page, to a summary such as
"reading_rows 5000/63000"; the task's own success or failure event replaces both.

Shape (the job's `progress`, the API's and the event's):
{"phase": "reading_rows" | "fitting" | "evaluating" | "publishing",
 "done": int | null, "total": int | null, "updated_at": "<ISO 8601, UTC, Z>"}
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog
from celery.exceptions import SoftTimeLimitExceeded

from mlservice import db
from mlservice.config import Settings
from mlservice.training import jobs

log = structlog.get_logger(__name__)

PHASES = ("reading_rows", "fitting", "evaluating", "publishing")
MIN_INTERVAL_SECONDS = 1.0
EVENT_TYPE = "task-progress"

Progress = dict[str, Any]


class Reporter:
    """Call with (phase, done, total); see the module docstring for when it writes."""

    def __init__(
        self,
        write: Callable[[Progress], bool],
        *,
        announce: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._announce = announce
        self._clock = clock
        self._phase: str | None = None
        self._written_at: float | None = None
        self._lost = False

    def __call__(self, phase: str, done: int | None = None, total: int | None = None) -> None:
        if phase not in PHASES:
            raise ValueError(f"Unknown training phase {phase!r}; one of: {', '.join(PHASES)}.")
        if self._lost:
            return
        now = self._clock()
        if (
            phase == self._phase
            and self._written_at is not None
            and now - self._written_at < MIN_INTERVAL_SECONDS
        ):
            return
        self._phase = phase
        self._written_at = now
        progress = {
            "phase": phase,
            "done": done,
            "total": total,
            "updated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        try:
            written = self._write(progress)
        except psycopg.Error as exc:
            log.warning("Could not record the training progress", error=str(exc), **progress)
            return
        if not written:
            self._lost = True
            log.warning("The job is no longer this run's; its progress is left as is")
            return
        if self._announce is not None:
            try:
                self._announce(progress)
            except SoftTimeLimitExceeded:
                raise  # the run's time is up: this must reach the training, not a log line
            except Exception as exc:  # a monitoring event must never fail the training
                log.warning("Could not announce the training progress", error=repr(exc))


def job_writer(settings: Settings, job_id: uuid.UUID, fence: int) -> Callable[[Progress], bool]:
    """Writes a progress on the job row while run `fence` holds it."""

    def write(progress: Progress) -> bool:
        with db.connect(settings) as conn:
            return jobs.set_progress(conn, job_id, fence=fence, progress=progress)

    return write


def summary(progress: Progress) -> str:
    """One line for a monitor: "fitting 1/2", or just the phase when nothing is counted."""
    if progress["done"] is None or progress["total"] is None:
        return progress["phase"]
    return f"{progress['phase']} {progress['done']}/{progress['total']}"


def task_announcer(task: Any) -> Callable[[Progress], None]:
    """Sends each progress as a `task-progress` event of the running Celery `task` (Flower)."""

    def announce(progress: Progress) -> None:
        task.send_event(EVENT_TYPE, progress=progress, result=summary(progress))

    return announce
