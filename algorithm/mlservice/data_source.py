"""Read the labelled rows that Django stores in the `data` table, in bounded batches.

A named (server-side) cursor keeps Postgres from sending all rows at once; the caller decides
what to hold in memory. Rows come in id order so the same table always trains the same model.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg

_QUERY = "SELECT text, label FROM data ORDER BY id"


def iter_batches(conn: psycopg.Connection, *, batch_size: int) -> Iterator[list[tuple[str, str]]]:
    """Lists of (text, label) of at most `batch_size` rows each, until the table is read."""
    # A named cursor lives inside a transaction; one statement also means one consistent snapshot.
    with conn.transaction(), conn.cursor(name="training_rows") as cursor:
        cursor.execute(_QUERY)
        while batch := cursor.fetchmany(batch_size):
            yield batch


def read_all(conn: psycopg.Connection, *, batch_size: int) -> tuple[list[str], list[str]]:
    """All texts and labels, as two parallel lists."""
    texts: list[str] = []
    labels: list[str] = []
    for batch in iter_batches(conn, batch_size=batch_size):
        for text, label in batch:
            texts.append(text)
            labels.append(label)
    return texts, labels
