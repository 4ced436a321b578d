"""Row group 5a: bulk insert through nginx in batches of 1,000 vs a raw COPY of the same rows.

One client posts the batches one after another (each batch is one transaction in web), starting
from an empty table. The rows are searchable at once, but web's thread puts them in the trigram
index behind the import (data.search_index): the second row says when that was done, and what
the import and the indexing cost together. Then the table is emptied and the same rows are
COPied from the bench, indexed as they are written (the column's default).
"""

from __future__ import annotations

import json
import time

from bench import database
from bench.container_cpu import CpuMeter, describe_per
from bench.context import Context
from bench.report import Row, rows_count

SECTION = "5 data API"
BATCH = 1000
MIN_ROWS_PER_SECOND = 10_000
INDEXING_TIMEOUT_SECONDS = 600


def run(ctx: Context) -> list[Row]:
    rows = ctx.rows(ctx.config.insert_rows)
    bodies = [
        json.dumps([{"text": text, "label": label} for text, label in rows[i : i + BATCH]])
        for i in range(0, len(rows), BATCH)
    ]
    url = f"{ctx.api.base_url}/api/data/"
    headers = {"Content-Type": "application/json"}

    database.truncate(ctx.db)
    meter = CpuMeter(ctx.stack, ("nginx", "web", "db"))
    meter.start()
    started = time.perf_counter()
    for body in bodies:
        response = ctx.api.session.post(url, data=body, headers=headers, timeout=60)
        if response.status_code != 201:
            raise RuntimeError(f"bulk insert: {response.status_code} {response.text[:300]}")
    api_seconds = time.perf_counter() - started
    import_cpu = meter.stop()
    waiting_at_end = database.unindexed(ctx.db)
    indexed_after = _wait_until_indexed(ctx, started + INDEXING_TIMEOUT_SECONDS) - started
    all_cpu = meter.stop()
    stored = database.count(ctx.db)
    if stored != len(rows):
        raise RuntimeError(f"bulk insert stored {stored} rows of {len(rows)}")

    database.truncate(ctx.db)
    copy_seconds = database.copy_rows(ctx.db, rows)
    database.truncate(ctx.db)

    api_rate = len(rows) / api_seconds
    copy_rate = len(rows) / copy_seconds
    return [
        Row(
            SECTION,
            f"bulk insert through nginx, {rows_count(len(rows))} rows in batches of "
            f"{rows_count(BATCH)}, one client",
            f"{api_rate:,.0f} rows/s ({api_seconds * 1000 / len(bodies):.0f} ms per batch; "
            f"{describe_per(import_cpu, len(bodies), 'batch')})",
            f"≥ {MIN_ROWS_PER_SECOND:,} rows/s",
            api_rate >= MIN_ROWS_PER_SECOND,
        ),
        Row(
            SECTION,
            f"... all {rows_count(len(rows))} rows in the trigram index (searchable throughout)",
            f"{indexed_after:.1f} s after the first batch "
            f"({len(rows) / indexed_after:,.0f} rows/s; "
            f"{rows_count(waiting_at_end)} waiting when the last batch was answered; import and "
            f"indexing {describe_per(all_cpu, len(bodies), 'batch')})",
        ),
        Row(
            SECTION,
            f"raw COPY of the same {rows_count(len(rows))} rows (bench → Postgres)",
            f"{copy_rate:,.0f} rows/s (the API reaches {api_rate / copy_rate:.0%} of it)",
        ),
    ]


def _wait_until_indexed(ctx: Context, deadline: float) -> float:
    """perf_counter() when web's thread has indexed every row."""
    while database.unindexed(ctx.db):
        if time.perf_counter() > deadline:
            raise RuntimeError("bulk insert: rows still unindexed after the timeout")
        time.sleep(0.05)
    return time.perf_counter()
