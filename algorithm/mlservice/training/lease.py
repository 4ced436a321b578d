"""The running job's side of the single-flight lease: who holds it, and keeping it alive.

A training run renews its job's `heartbeat_at` from a background thread while it works; if a
renewal finds the job no longer its own (failed as stale, taken over by a redelivery), the lease
is lost and the run must not publish. `owner_id` names the process in the job row, so a
redelivered task on the same host can see that the process that ran the job before is dead and
take over at once instead of waiting for the lease to run out.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

import psycopg
import structlog

from mlservice import db
from mlservice.config import Settings
from mlservice.training import jobs

log = structlog.get_logger(__name__)

# Six renewals per lease: a couple of slow database round trips never cost the lease.
RENEWALS_PER_LEASE = 6


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_gone(owner: str) -> bool:
    """True only if `owner` ran on this host and its process has exited (or is a zombie)."""
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another host's process: only its lease can tell
    try:
        with open(f"/proc/{pid_text}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


class LeaseKeeper:
    """Renews one job's lease every lease/6 seconds until stopped or lost."""

    def __init__(self, settings: Settings, job_id: uuid.UUID, fence: int) -> None:
        self._settings = settings
        self._job_id = job_id
        self._fence = fence
        self._interval = settings.train_lease_seconds / RENEWALS_PER_LEASE
        self._stop = threading.Event()
        self._lost = threading.Event()
        # Threads start with an empty context: carry the run's log context (job_id, ...) over.
        self._log_context = structlog.contextvars.get_contextvars()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def lost(self) -> bool:
        return self._lost.is_set()

    def still_held(self) -> bool:
        """Asked under the publish lock: does the database still say this run owns the job?"""
        if self.lost():
            return False
        with db.connect(self._settings) as conn:
            return jobs.holds_lease(conn, self._job_id, fence=self._fence)

    def _run(self) -> None:
        structlog.contextvars.bind_contextvars(**self._log_context)
        while not self._stop.wait(self._interval):
            try:
                with db.connect(self._settings) as conn:
                    renewed = jobs.renew_lease(conn, self._job_id, fence=self._fence)
            except psycopg.Error as exc:
                # Keep trying: a short outage must not cost the lease, a long one will anyway.
                log.warning("Could not renew the job lease", error=str(exc))
                continue
            if not renewed:
                self._lost.set()
                log.error("The job lease was lost; this run will not publish")
                return
