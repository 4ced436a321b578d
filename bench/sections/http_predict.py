"""Row group 3: one text per request over HTTP at several concurrencies, three ways.

- peers: the bench's Flask app that unpickles model.pickle and vectorizer.pickle on every
  request (as public implementations of this task do), same gunicorn shape, same model files;
- direct: the algorithm API on its bench-only port, with the service token;
- nginx: the product's public path, POST /api/predict/: nginx asks web whether the token may
  predict (an answer it keeps per token for TOKEN_CACHE_SECONDS), then sends the call straight
  to the ML API, which checks the input and counts the caller's throttle in web's counter.
All three serve the current model (linear_svc on the whole real corpus). Each target is first
warmed up (every gunicorn worker loads the model on its first request).

Then the ML API once more, directly, from one connection paced to the rate the product's path
reached at concurrency 8: on that path the ML API's requests arrive at the path's rate, and an
idle worker woken per request costs it more CPU than the direct rows' back-to-back load does
(BENCHMARKS.md, 2026-12-04). That row is the ML API's own CPU at the arrival rate it sees on
the public path, the second denominator of the CPU ratio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bench import cpu_ratio, load
from bench.container_cpu import CpuMeter, describe_per
from bench.context import Context
from bench.load import LoadResult
from bench.report import Row, milliseconds
from bench.stack import ML_SERVICE_TOKEN

SECTION = "3 predict over HTTP"
MIN_SHARE_OF_DIRECT = 0.50
MIN_TIMES_PEERS = 20.0
MAX_P99_AT_8 = 0.025
# CPU of one prediction over every layer of the product's path (nginx, web, the ML API, Redis,
# the Docker engine), against the ML API's own CPU per prediction in the direct row.
MAX_CPU_TIMES_ML_API = 2.0
PACED_LIKE_CONCURRENCY = 8  # the paced row matches the product's path at this concurrency
_TEXTS = 1000
_WARM_UP_SECONDS = 2
PATH_LABEL = "nginx → algorithm (web's token check, cached)"
SERVICES = ("nginx", "web", "algorithm", "peers", "db", "redis")
GUNICORN_SERVICES = ("web", "algorithm", "peers")


@dataclass(frozen=True)
class Measurement:
    load: LoadResult
    cpu_seconds: dict[str, float]  # by compose service, during the run
    worker_boots: dict[str, int]  # gunicorn workers started during the run (max_requests)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    url: str
    headers: dict[str, str]


def run(ctx: Context) -> list[Row]:
    bodies = [json.dumps({"text": text}) for text in ctx.query_texts(_TEXTS)]
    targets = [
        Target("peers", "peers' app (unpickle per request)", f"{ctx.stack.peers_url}/predict", {}),
        Target(
            "direct",
            "algorithm API, direct",
            f"{ctx.stack.algorithm_url}/predict",
            {"X-Service-Token": ML_SERVICE_TOKEN},
        ),
        Target(
            "nginx",
            PATH_LABEL,
            f"{ctx.stack.base_url}/api/predict/",
            {"Authorization": f"Token {ctx.api.token}"},
        ),
    ]
    meter = CpuMeter(ctx.stack, SERVICES)
    for target in targets:
        _post(ctx, target, bodies, meter, concurrency=2, seconds=_WARM_UP_SECONDS)
    # The three targets of one concurrency run back to back, so that what else the machine does
    # at that moment weighs on the ratios between them as little as possible.
    results: dict[tuple[str, int], Measurement] = {}
    for concurrency in ctx.config.http_concurrency:
        for target in targets:
            results[target.key, concurrency] = _post(
                ctx, target, bodies, meter, concurrency=concurrency, seconds=ctx.config.http_seconds
            )

    rows = []
    for target in targets:
        for concurrency in ctx.config.http_concurrency:
            measurement = results[target.key, concurrency]
            name = f"{target.label}, concurrency {concurrency}"
            if target.key != "nginx":
                rows.append(Row(SECTION, name, _describe(measurement)))
                continue
            rows.append(
                _nginx_row(
                    name,
                    measurement,
                    direct=results["direct", concurrency],
                    peers=results["peers", concurrency],
                    concurrency=concurrency,
                )
            )
        if target.key == "nginx":
            rows += [
                _cpu_ratio_row(results["nginx", c], results["direct", c], concurrency=c)
                for c in ctx.config.http_concurrency
            ]
    direct = next(target for target in targets if target.key == "direct")
    return rows + _paced_rows(ctx, direct, bodies, meter, results)


def _paced_rows(
    ctx: Context,
    direct: Target,
    bodies: list[str],
    meter: CpuMeter,
    results: dict[tuple[str, int], Measurement],
) -> list[Row]:
    path, unpaced = results.get(("nginx", PACED_LIKE_CONCURRENCY)), results.get(("direct", 1))
    if path is None or unpaced is None:
        return []
    pause = cpu_ratio.pause_for_rate(
        path.load.requests_per_second, unpaced.load.requests_per_second
    )
    paced = _post(
        ctx, direct, bodies, meter, concurrency=1, seconds=ctx.config.http_seconds, pause=pause
    )
    total = cpu_ratio.per_request_ms(path.cpu_seconds, path.load.requests)
    own = cpu_ratio.per_request_ms(paced.cpu_seconds, paced.load.requests, only="algorithm")
    ratio_name = (
        f"{PATH_LABEL}, concurrency {PACED_LIKE_CONCURRENCY}: CPU per prediction, all "
        "layers, against the ML API's own at the same arrival rate (paced direct)"
    )
    ratio = cpu_ratio.ratio_row(SECTION, ratio_name, total, own, MAX_CPU_TIMES_ML_API)
    return [
        Row(
            SECTION,
            f"algorithm API, direct, one connection paced ({pause} ms before each request) to "
            f"the rate of {PATH_LABEL} at concurrency {PACED_LIKE_CONCURRENCY}",
            _describe(paced),
        ),
        ratio,
    ]


def _cpu_ratio_row(path: Measurement, direct: Measurement, *, concurrency: int) -> Row:
    name = (
        f"{PATH_LABEL}, concurrency {concurrency}: CPU per prediction, all layers, "
        "against the ML API's own (direct)"
    )
    total = cpu_ratio.per_request_ms(path.cpu_seconds, path.load.requests)
    own = cpu_ratio.per_request_ms(direct.cpu_seconds, direct.load.requests, only="algorithm")
    return cpu_ratio.ratio_row(SECTION, name, total, own, MAX_CPU_TIMES_ML_API)


def _post(
    ctx: Context,
    target: Target,
    bodies: list[str],
    meter: CpuMeter,
    *,
    concurrency: int,
    seconds: float,
    pause: int = 0,
) -> Measurement:
    started_at = datetime.now(UTC)
    meter.start()
    result = load.post_bodies(
        target.url,
        bodies,
        headers=target.headers,
        concurrency=concurrency,
        seconds=seconds,
        pause_ms=pause,
    )
    cpu_seconds = meter.stop()
    boots = ctx.stack.gunicorn_boots(GUNICORN_SERVICES, since=started_at, until=datetime.now(UTC))
    return Measurement(result, cpu_seconds, boots)


def _describe(measurement: Measurement) -> str:
    result = measurement.load
    return "; ".join(
        part
        for part in (
            f"{result.requests_per_second:,.1f} req/s",
            f"p50 {milliseconds(result.p50_seconds)}, p99 {milliseconds(result.p99_seconds)}",
            f"{result.errors} errors",
            describe_per(measurement.cpu_seconds, result.requests, "request"),
            _describe_boots(measurement.worker_boots),
            f"wrk used {result.client_cpu_share:.0%} of a core",
        )
        if part
    )


def _nginx_row(
    name: str,
    measurement: Measurement,
    *,
    direct: Measurement,
    peers: Measurement,
    concurrency: int,
) -> Row:
    result = measurement.load
    target = f"≥ {MIN_SHARE_OF_DIRECT:.0%} of direct, ≥ {MIN_TIMES_PEERS:.0f}x peers, 0 errors"
    if concurrency == 8:
        target += f", p99 < {milliseconds(MAX_P99_AT_8)}"
    if not (direct.load.requests and peers.load.requests):
        # A reference run that completed no request leaves no ratio to judge.
        measured = f"{_describe(measurement)}; no ratio: a reference run completed no request"
        return Row(SECTION, name, measured, target, False)
    share = result.requests_per_second / direct.load.requests_per_second
    times_peers = result.requests_per_second / peers.load.requests_per_second
    passed = share >= MIN_SHARE_OF_DIRECT and times_peers >= MIN_TIMES_PEERS and result.errors == 0
    if concurrency == 8:
        passed = passed and result.p99_seconds < MAX_P99_AT_8
    measured = f"{_describe(measurement)}; {share:.0%} of direct, {times_peers:.1f}x peers"
    return Row(SECTION, name, measured, target, passed)


def _describe_boots(boots: dict[str, int]) -> str:
    """'gunicorn workers restarted: algorithm 3, web 1' (max_requests recycling), or ''."""
    shown = ", ".join(f"{service} {count}" for service, count in sorted(boots.items()) if count)
    return f"gunicorn workers restarted: {shown}" if shown else ""
