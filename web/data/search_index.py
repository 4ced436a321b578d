"""The trigram index, filled behind bulk inserts instead of inside them.

A bulk insert writes its rows with `search_ready = false`: the trigram index (partial, on the
ready rows: migration 0006) is left alone, which takes ~95% of Postgres's work out of the
request. Once the insert commits, `request_indexing()` wakes this process's one indexing thread,
which marks the backlog ready a batch at a time on its own connection (the UPDATE is what puts
the rows in the index), while the client sends its next batch; then it merges the index's
pending list and refreshes the planner's statistics of `search_ready`.

Searches never miss a committed row: `matching()` reads the indexed rows through the trigram
index and the backlog through its own partial index on `id`, so a search during an import
costs the backlog's size on top (BENCHMARKS.md). Any web process drains any backlog (rows are
claimed with SKIP LOCKED), and a thread that was woken once looks again every
DATA_SEARCH_INDEX_POLL_SECONDS, so a backlog whose process died still drains.

DATA_SEARCH_INDEX_IN_BACKGROUND=false turns this off: bulk inserts then index their rows as
they write them, inside the request, as single-row writes always do.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections
from django.db.models import Q
from textclf_ops.process_thread import ProcessThread

logger = logging.getLogger(__name__)

# One UPDATE per this many rows: a short transaction (row locks, WAL) that a concurrent PATCH or
# DELETE of one of its rows waits for.
INDEX_BATCH_ROWS = 1000


def matching(text: str) -> Q:
    """Rows whose text contains `text`, case-insensitively (`ILIKE`, data.lookups).

    Two arms on purpose: each implies one partial index's condition, so the planner can read
    the trigram index for the indexed rows and the backlog index for the others. A plain
    `text ILIKE` could use neither and would read the whole table.
    """
    contains = Q(text__ilike_contains=text)
    return (Q(search_ready=True) & contains) | (Q(search_ready=False) & contains)


def index_backlog() -> int:
    """Index every row a bulk insert left out, in the caller's thread; returns how many."""
    indexed = 0
    with connections["default"].cursor() as cursor:
        # Each batch merges the index's pending list when it overflows: the bulk bound, and a
        # sort in 64 MB rather than the default 4 MB.
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false), "
            "set_config('work_mem', '64MB', false)",
            [str(settings.DATA_BULK_STATEMENT_TIMEOUT_MS)],
        )
        while True:
            # Autocommit: one transaction per batch, so searches see each batch indexed.
            cursor.execute(
                "UPDATE data SET search_ready = true WHERE id IN ("
                " SELECT id FROM data WHERE NOT search_ready ORDER BY id LIMIT %s"
                " FOR UPDATE SKIP LOCKED)",
                [INDEX_BATCH_ROWS],
            )
            if cursor.rowcount == 0:
                break
            indexed += cursor.rowcount
        if indexed:
            cursor.execute("SELECT data_search_merge()")
            cursor.execute("SELECT data_search_analyze()")
    return indexed


class _Indexer:
    """One daemon thread per process (started on first use, so after gunicorn's fork)."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._thread = ProcessThread(self._run, name="search-indexer", before_start=self._new_wake)

    def request(self) -> None:
        self._thread.ensure_started()
        self._wake.set()

    def _new_wake(self) -> None:
        # Not the parent's event, which a forked child may have inherited set.
        self._wake = threading.Event()

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait(timeout=settings.DATA_SEARCH_INDEX_POLL_SECONDS)
            wake.clear()
            try:
                rows = index_backlog()
                if rows:
                    logger.info("Search backlog indexed: %d rows", rows)
            except Exception:  # the rows stay searchable; the next wake or poll retries
                logger.exception("Search backlog indexing failed")
            finally:
                connections.close_all()  # this thread's connections only


_indexer = _Indexer()


def request_indexing() -> None:
    """Ask this process's thread to index the backlog soon."""
    _indexer.request()
