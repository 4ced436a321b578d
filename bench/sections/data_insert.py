"""Row group 5a: bulk insert through nginx in batches of 1,000 vs a raw COPY of the same rows.

One client posts the batches one after another (each batch is one transaction in web), starting
from an empty table; then the table is emptied and the same rows are COPied from the bench.
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
    cpu = describe_per(meter.stop(), len(bodies), "batch")
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
            f"{api_rate:,.0f} rows/s ({api_seconds * 1000 / len(bodies):.0f} ms per batch; {cpu})",
            f"≥ {MIN_ROWS_PER_SECOND:,} rows/s",
            api_rate >= MIN_ROWS_PER_SECOND,
        ),
        Row(
            SECTION,
            f"raw COPY of the same {rows_count(len(rows))} rows (bench → Postgres)",
            f"{copy_rate:,.0f} rows/s (the API reaches {api_rate / copy_rate:.0%} of it)",
        ),
    ]
