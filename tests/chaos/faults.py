"""Fault injection and measurement helpers: time a compose command, find and kill the training
process, wait for a condition with a measured time, and the model references that let a test
tell whether a prediction really came from the version it claims."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TypeVar

from harness import Api, Stack

T = TypeVar("T")

# The bound for a missing dependency to surface as a 503.
FAST_503_SECONDS = 5.0


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.5,
    what: str = "condition",
) -> tuple[float, T]:
    """Call `probe` until `done(result)`; returns (seconds waited, last result)."""
    started = time.monotonic()
    while True:
        try:
            result = probe()
        except Exception as exc:  # a probe that cannot connect yet is "not done"
            result = exc  # type: ignore[assignment]
        else:
            if done(result):
                return time.monotonic() - started, result
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not reached within {timeout} s; last: {result!r}")
        time.sleep(interval)


def timed_request(api: Api, method: str, path: str, **kwargs):
    """(seconds, response); a request that gets no answer is (seconds, exception)."""
    started = time.monotonic()
    try:
        response = api.request(method, path, timeout=kwargs.pop("timeout", 30), **kwargs)
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, response


def compose_seconds(stack: Stack, *args: str) -> float:
    started = time.monotonic()
    stack.compose(*args)
    return time.monotonic() - started


# -- the Celery pool child that trains, found through /proc inside algorithm_celery

_POOL_CHILDREN = r"""
import json, os, sys, time

def stat(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])  # ppid, utime + stime

def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode(errors="replace")

def rss(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
main = next(p for p in sorted(pids) if "celery" in cmdline(p) and "worker" in cmdline(p))
children = []
for pid in pids:
    try:
        if stat(pid)[0] == main and "celery" in cmdline(pid):
            children.append(pid)
    except (FileNotFoundError, ProcessLookupError):
        pass
before = {pid: stat(pid)[1] for pid in children}
time.sleep(float(sys.argv[2]))
hz = os.sysconf("SC_CLK_TCK")
busy = {}
for pid in children:
    try:
        busy[pid] = (stat(pid)[1] - before[pid]) / hz
    except FileNotFoundError:
        pass
result = {"main": main, "cpu_seconds": {str(p): s for p, s in busy.items()}}
if sys.argv[1] == "kill" and busy:
    pid = max(busy, key=busy.get)
    if busy[pid] >= float(sys.argv[3]):
        result["killed"] = pid
        result["killed_rss_bytes"] = rss(pid)
        os.kill(pid, 9)
print(json.dumps(result))
"""


def pool_children(stack: Stack, *, sample_seconds: float = 1.0) -> dict:
    """The worker's main pid and the CPU seconds each pool child used over the sample."""
    return _run_pool_script(stack, "show", sample_seconds, 0.0)


def kill_training_process(
    stack: Stack, *, sample_seconds: float = 1.0, min_cpu_seconds: float = 0.3
) -> dict:
    """kill -9 the busiest pool child if it used at least `min_cpu_seconds` over the sample."""
    return _run_pool_script(stack, "kill", sample_seconds, min_cpu_seconds)


def _run_pool_script(stack: Stack, mode: str, sample: float, threshold: float) -> dict:
    result = stack.exec(
        "algorithm_celery", "python", "-c", _POOL_CHILDREN, mode, str(sample), str(threshold)
    )
    if result.returncode != 0:
        raise AssertionError(f"pool inspection failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- what each model version answers for a fixed set of texts


class ModelReferences:
    """Probabilities of fixed texts per model version, as first observed while it was current.

    A prediction labelled version V whose probabilities differ from V's reference was not made by
    V alone (a mixed vectorizer/model pair, or a mislabelled response).
    """

    TOLERANCE = 1e-9

    def __init__(self, api: Api, texts: list[str]) -> None:
        self.api = api
        self.texts = texts
        self.by_version: dict[str, list[dict[str, float]]] = {}

    def observe(self) -> str:
        """Predict the texts with the current model; record or check its reference."""
        response = self.api.post("/api/predict/", json={"texts": self.texts})
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        version = body["model_version"]
        probabilities = [p["probabilities"] for p in body["predictions"]]
        if version in self.by_version:
            for index, probs in enumerate(probabilities):
                assert self.matches(version, index, probs), (version, index)
        else:
            self.by_version[version] = probabilities
        return version

    def matches(self, version: str, index: int, probabilities: dict[str, float]) -> bool:
        reference = self.by_version.get(version)
        if reference is None:
            return False
        expected = reference[index]
        return expected.keys() == probabilities.keys() and all(
            math.isclose(expected[k], probabilities[k], rel_tol=0, abs_tol=self.TOLERANCE)
            for k in expected
        )
