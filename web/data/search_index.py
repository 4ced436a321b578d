"""Merging the trigram index's pending list after bulk inserts, off the request's path.

Migration 0005 lets a bulk batch append its trigram entries to the GIN index's pending list
without merging it into the tree; `request_merge()` (called on commit of every bulk insert)
wakes this process's one merge thread, which runs `data_search_merge()` on its own
connection while the next request is served. Postgres keeps the index consistent either way:
a search reads the tree and the pending list, and an insert that overflows the list while a
merge runs leaves the merging to it. The merge spends the CPU the insert would have (no
less); it moves it out of the request, onto a core that one importing client leaves idle.

DATA_SEARCH_MERGE_IN_BACKGROUND=false turns the thread off: inserts then merge inline once
the list passes its limit, as before.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections
from textclf_ops.process_thread import ProcessThread

logger = logging.getLogger(__name__)


class _Merger:
    """One daemon thread per process (started on first use, so after gunicorn's fork)."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._thread = ProcessThread(
            self._run, name="search-index-merge", before_start=self._new_wake
        )

    def request(self) -> None:
        self._thread.ensure_started()
        self._wake.set()

    def _new_wake(self) -> None:
        # Not the parent's event, which a forked child may have inherited set.
        self._wake = threading.Event()

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()
            try:
                merge_pending()
            except Exception:  # a failed merge is retried by the next insert, or done inline
                logger.exception("search_index_merge_failed")
            finally:
                connections.close_all()  # this thread's connections only


def merge_pending() -> int:
    """Merge the pending list now, in the caller's thread; returns the pages merged."""
    with connections["default"].cursor() as cursor:
        # Merging a full list takes seconds: the bulk bound, not the one for reads.
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            [str(settings.DATA_BULK_STATEMENT_TIMEOUT_MS)],
        )
        cursor.execute("SELECT data_search_merge()")
        return cursor.fetchone()[0]


_merger = _Merger()


def request_merge() -> None:
    """Ask for a merge soon (no-op when DATA_SEARCH_MERGE_IN_BACKGROUND is off)."""
    if settings.DATA_SEARCH_MERGE_IN_BACKGROUND:
        _merger.request()
