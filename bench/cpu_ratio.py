"""CPU per request of a run, and the row comparing a path's CPU over all its layers with one
service's own (pure functions, so that `make test-bench` needs no stack)."""

from __future__ import annotations

from bench.report import Row

# The run of the peers' app is the only time it works; in the other targets' runs it idles.
IDLE_IN_OTHER_RUNS = "peers"


def per_request_ms(cpu_seconds: dict[str, float], requests: int, only: str | None = None) -> float:
    """CPU ms per completed request: of every measured service but the peers' app, or of `only`
    one; 0 without requests."""
    if not requests:
        return 0.0
    if only:
        seconds = cpu_seconds.get(only, 0.0)
    else:
        seconds = sum(s for service, s in cpu_seconds.items() if service != IDLE_IN_OTHER_RUNS)
    return 1000 * seconds / requests


def ratio_row(section: str, name: str, total_ms: float, own_ms: float, max_ratio: float) -> Row:
    target = f"≤ {max_ratio:.1f}x"
    if not total_ms or not own_ms:
        return Row(section, name, "no ratio: a run completed no request", target, False)
    ratio = total_ms / own_ms
    measured = f"{total_ms:.2f} ms / {own_ms:.2f} ms = {ratio:.2f}x"
    return Row(section, name, measured, target, ratio <= max_ratio)


def pause_for_rate(target_per_second: float, unpaced_per_second: float) -> int:
    """Whole milliseconds (wrk's unit) to wait before each request so that one connection that
    answers `unpaced_per_second` requests a second without pauses sends about
    `target_per_second`; 0 when it cannot go that fast anyway."""
    if target_per_second <= 0 or unpaced_per_second <= 0:
        return 0
    return max(0, round(1000 / target_per_second - 1000 / unpaced_per_second))
