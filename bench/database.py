"""Bulk access to the `data` table, as an operator with the owner role would do it.

COPY is how the bench loads hundreds of thousands of rows in seconds; it is also the baseline
that the API's bulk insert is compared with.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg

from bench.dataset import Row

_COPY = "COPY data (text, label, created_at, updated_at) FROM STDIN"


def connect(database_url: str) -> psycopg.Connection:
    return psycopg.connect(database_url, autocommit=True)


def truncate(conn: psycopg.Connection) -> None:
    # Feedback rows point at the data rows they created, so they go with them.
    conn.execute("TRUNCATE data RESTART IDENTITY CASCADE")


def count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM data").fetchone()[0]


def unindexed(conn: psycopg.Connection) -> int:
    """Rows a bulk insert left for web's thread to put in the trigram index (search_index)."""
    return conn.execute("SELECT count(*) FROM data WHERE NOT search_ready").fetchone()[0]


def copy_rows(conn: psycopg.Connection, rows: Iterable[Row]) -> float:
    """Append `rows` in one COPY; returns the seconds it took."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor, cursor.copy(_COPY) as copy:
        for text, label in rows:
            copy.write_row((text, label, now, now))
    return time.perf_counter() - started


def vacuum_analyze(conn: psycopg.Connection) -> None:
    """What autovacuum does shortly after a bulk load: statistics and the visibility map.

    Without parallel workers, as autovacuum runs: a parallel index vacuum at 1M rows asks for a
    64 MiB dynamic shared memory segment, more than the container's default /dev/shm (DiskFull).
    """
    conn.execute("VACUUM (ANALYZE, PARALLEL 0) data")


def load_exactly(conn: psycopg.Connection, rows: list[Row]) -> None:
    """Make `data` hold exactly `rows`, in order (ids 1..n)."""
    truncate(conn)
    copy_rows(conn, rows)
    vacuum_analyze(conn)
