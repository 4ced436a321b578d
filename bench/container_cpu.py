"""CPU time used by each container of the stack, read from its cgroup on the host, and by the
Docker engine's own processes.

Dividing a load run's CPU time per container by its requests shows where a request's cost goes
(nginx, web, algorithm, Postgres, Redis), which is what explains the throughput ratios on a
machine where everything shares two cores. The engine (dockerd, containerd and the shims that
carry each container's stdout to its log) runs outside the containers' cgroups but on the same
cores, so it is reported beside them as "docker engine". Reading the counters costs nothing
measurable (no docker exec). Containers are left out when their cgroup files are not visible
from the host.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.stack import BenchStack

SHOWN_CPU_MS = 0.05  # per unit of work; less is noise from the stack's background work
_CGROUP_V1 = "/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage"  # nanoseconds
_CGROUP_V2 = "/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat"  # usage_usec line
ENGINE = "docker engine"
_ENGINE_COMMANDS = ("dockerd", "containerd", "containerd-shim", "docker-proxy")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Per-service CPU seconds between `start()` and `stop()`."""

    def __init__(self, stack: BenchStack, services: tuple[str, ...]) -> None:
        self._ids = {service: stack.container_id(service) for service in services}
        self._started: dict[str, float] = {}

    def start(self) -> None:
        self._started = self._read()

    def stop(self) -> dict[str, float]:
        now = self._read()
        return {
            service: now[service] - self._started[service]
            for service in now
            if service in self._started
        }

    def _read(self) -> dict[str, float]:
        readings = {ENGINE: _engine_cpu_seconds()}
        for service, container_id in self._ids.items():
            seconds = _cpu_seconds(container_id)
            if seconds is not None:
                readings[service] = seconds
        return readings


def _cpu_seconds(container_id: str) -> float | None:
    v1 = Path(_CGROUP_V1.format(id=container_id))
    if v1.exists():
        return int(v1.read_text()) / 1e9
    v2 = Path(_CGROUP_V2.format(id=container_id))
    if v2.exists():
        for line in v2.read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    return None


def _engine_cpu_seconds() -> float:
    """User + system time of the engine's processes now running (from /proc/<pid>/stat)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        if command.startswith(_ENGINE_COMMANDS):
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _CLOCK_TICKS


def describe_per(cpu_seconds: dict[str, float], count: int, unit: str) -> str:
    """'CPU ms per <unit>: web 3.10, algorithm 1.02, ...', largest first, noise left out."""
    shares = [
        f"{service} {1000 * seconds / count:.2f}"
        for service, seconds in sorted(cpu_seconds.items(), key=lambda kv: -kv[1])
        if count and 1000 * seconds / count >= SHOWN_CPU_MS
    ]
    return f"CPU ms per {unit}: {', '.join(shares)}" if shares else ""
