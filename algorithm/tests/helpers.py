"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import psycopg

T = TypeVar("T")


def sample(corpus: list[tuple[str, str]], size: int, seed: int) -> list[tuple[str, str]]:
    return random.Random(seed).sample(corpus, size)


def insert_rows(conn: psycopg.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """Add rows to `data` the way Django would, via COPY for speed."""
    with conn.cursor() as cur, cur.copy("COPY data (text, label) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def wait_for(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2) -> T:
    """Poll until `probe` returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
