"""Closed-loop HTTP load with wrk: N connections, each sending its next request on each answer.

wrk is C on epoll, so on two shared cores it takes a few percent of one core where a Python
client would compete with the server it measures; `client_cpu_share` reports what it took.
"""

from __future__ import annotations

import json
import resource
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk" / "predict.lua"
_MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_seconds: float
    p99_seconds: float
    errors: int  # connect/read/write errors, timeouts and non-2xx/3xx answers
    client_cpu_share: float  # wrk's CPU time / wall time (1.0 = one core)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def post_bodies(
    url: str,
    bodies: list[str],
    *,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    pause_ms: int = 0,
) -> LoadResult:
    """POST the JSON `bodies` in turn to `url` for `seconds` with `concurrency` connections,
    each waiting `pause_ms` before each request (0: each sends on the last answer)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as bodies_file:
        bodies_file.write("\n".join(bodies) + "\n")
        bodies_file.flush()
        command = [
            "wrk",
            f"--threads={min(concurrency, 2)}",
            f"--connections={concurrency}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=30s",  # the peers' row is slow; a request is an error only if it fails
            f"--script={LUA_SCRIPT}",
            "--header=Content-Type: application/json",
            *(f"--header={name}: {value}" for name, value in headers.items()),
            url,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            command,
            env={"BENCH_BODIES": bodies_file.name, "BENCH_PAUSE_MS": str(pause_ms)},
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = _summary(completed.stdout)
    wall = summary["duration_us"] / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LoadResult(
        requests=summary["requests"],
        seconds=wall,
        p50_seconds=summary["p50_us"] / 1e6,
        p99_seconds=summary["p99_us"] / 1e6,
        errors=sum(value for key, value in summary.items() if key.startswith("errors_")),
        client_cpu_share=cpu / wall,
    )


def _summary(stdout: str) -> dict[str, int]:
    for line in stdout.splitlines():
        if line.startswith(_MARKER):
            return json.loads(line.removeprefix(_MARKER))
    raise RuntimeError(f"wrk printed no summary:\n{stdout}")
