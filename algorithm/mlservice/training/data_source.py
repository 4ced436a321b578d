"""Read the labelled rows that Django stores in the `data` table, in bounded batches.

A named (server-side) cursor keeps Postgres from sending all rows at once; the caller decides
what to hold in memory. Rows come in id order so the same table always trains the same model,
with their ids, which choose the evaluation rows (`ml.evaluation`). With `verified_only`
(TRAIN_VERIFIED_ONLY) only rows whose `verified` is true are read: feedback waits for review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql

_ALL = sql.SQL("")
_VERIFIED = sql.SQL(" WHERE verified")


def _where(verified_only: bool) -> sql.Composable:
    return _VERIFIED if verified_only else _ALL


def iter_batches(
    conn: psycopg.Connection,
    *,
    batch_size: int,
    on_total: Callable[[int], None] | None = None,
    verified_only: bool = False,
) -> Iterator[list[tuple[int, str, str]]]:
    """Lists of (id, text, label) of at most `batch_size` rows each, until the table is read.

    `on_total` first gets the number of rows that will come.
    """
    # A named cursor lives inside a transaction; one statement also means one consistent snapshot.
    with conn.transaction(), conn.cursor(name="training_rows") as cursor:
        if on_total is not None:
            # The count and the rows from one snapshot, so the rows read end at the total.
            # (The ML role may not read web's trigger-kept counter; one count per training is
            # cheap next to reading every row.)
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            count = sql.SQL("SELECT count(*) FROM data{}").format(_where(verified_only))
            on_total(conn.execute(count).fetchone()[0])
        cursor.execute(
            sql.SQL("SELECT id, text, label FROM data{} ORDER BY id").format(_where(verified_only))
        )
        while batch := cursor.fetchmany(batch_size):
            yield batch


class TooManyLabels(ValueError):
    """The table holds more distinct labels than a model may have (TRAIN_MAX_LABELS)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"Training data has {count:,} labels; at most TRAIN_MAX_LABELS={limit:,} are allowed."
        )
        self.count = count
        self.limit = limit


def read_all(
    conn: psycopg.Connection,
    *,
    batch_size: int,
    max_labels: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    verified_only: bool = False,
) -> tuple[list[int], list[str], list[str]]:
    """All ids, texts and labels, as three parallel lists; `on_progress(done, total)` after
    each batch (and once with done=0 before the first).

    Raises TooManyLabels as soon as the rows read so far carry more than `max_labels` distinct
    labels: a table crafted with one label per row is refused before it is held, let alone fitted.
    """
    ids: list[int] = []
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    total = 0
    over_cap = False

    def start(count: int) -> None:
        nonlocal total
        total = count
        on_progress(0, total)

    batches = iter_batches(
        conn,
        batch_size=batch_size,
        on_total=start if on_progress is not None else None,
        verified_only=verified_only,
    )
    try:
        for batch in batches:
            for row_id, text, label in batch:
                if label not in seen:
                    seen.add(label)
                    if max_labels is not None and len(seen) > max_labels:
                        over_cap = True
                        break
                ids.append(row_id)
                texts.append(text)
                labels.append(label)
            if over_cap:
                break
            if on_progress is not None:
                on_progress(len(texts), total)
    finally:
        batches.close()  # ends the named cursor's transaction before the count below
    if over_cap:
        del ids, texts, labels
        raise TooManyLabels(count_labels(conn, verified_only=verified_only), max_labels)
    return ids, texts, labels


def count_labels(conn: psycopg.Connection, *, verified_only: bool = False) -> int:
    """Distinct labels in the rows a training reads (for the message of a refusal)."""
    query = sql.SQL("SELECT count(DISTINCT label) FROM data{}").format(_where(verified_only))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
