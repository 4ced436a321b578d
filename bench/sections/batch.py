"""Row group 4: 1,000 texts in one POST /api/predict/, end to end through nginx, one at a time."""

from __future__ import annotations

import json
import statistics
import time

from bench.container_cpu import CpuMeter, describe_per
from bench.context import Context
from bench.report import Row, milliseconds, rows_count

SECTION = "4 batch predict"
BATCH = 1000
MAX_P50 = 0.200
_WARM_UP = 2


def run(ctx: Context) -> list[Row]:
    body = json.dumps({"texts": ctx.query_texts(BATCH)})
    headers = {"Content-Type": "application/json"}
    url = f"{ctx.api.base_url}/api/predict/"
    durations = []
    response_bytes = 0
    meter = CpuMeter(ctx.stack, ("nginx", "web", "algorithm"))
    for attempt in range(_WARM_UP + ctx.config.batch_requests):
        if attempt == _WARM_UP:
            meter.start()
        started = time.perf_counter()
        response = ctx.api.session.post(url, data=body, headers=headers, timeout=60)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        if len(response.json()["predictions"]) != BATCH:
            raise RuntimeError("a batch prediction did not answer every text")
        response_bytes = len(response.content)
        if attempt >= _WARM_UP:
            durations.append(elapsed)
    cpu = describe_per(meter.stop(), len(durations), "request")
    p50 = statistics.median(durations)
    p99 = statistics.quantiles(durations, n=100, method="inclusive")[98]
    return [
        Row(
            SECTION,
            f"{rows_count(BATCH)} texts in one request through nginx "
            f"({len(durations)} requests, {len(body) / 1e6:.1f} MB in, "
            f"{response_bytes / 1e6:.1f} MB out)",
            f"p50 {milliseconds(p50)}, p99 {milliseconds(p99)}; {cpu}",
            f"p50 < {milliseconds(MAX_P50)}",
            p50 < MAX_P50,
        )
    ]
