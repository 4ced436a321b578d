"""The bench's one table: every measurement, its target where issue 5 sets one, and the verdict."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Row:
    section: str  # "1 training", "2 predict in process", ...
    name: str
    measured: str
    target: str = ""
    passed: bool | None = None  # None: reported, no target

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def render(rows: list[Row], *, title: str) -> str:
    lines = [
        f"## {title}",
        "",
        f"{_machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| row | measurement | measured | target | |",
        "|---|---|---|---|---|",
    ]
    lines.append(render_rows(rows))
    passed = sum(row.passed is True for row in rows)
    failed = sum(row.passed is False for row in rows)
    lines += ["", f"{passed} targets passed, {failed} failed."]
    return "\n".join(lines) + "\n"


def render_rows(rows: list[Row]) -> str:
    """The table's body lines for `rows`."""
    return "\n".join(
        f"| {row.section} | {row.name} | {row.measured} | {row.target} | {row.verdict} |"
        for row in rows
    )


def _machine() -> str:
    memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (
        f"{os.cpu_count()} cores ({_cpu_model()}), {memory_bytes / 2**30:.0f} GiB, "
        f"Linux {platform.release()}"
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def milliseconds(value_seconds: float) -> str:
    ms = value_seconds * 1000
    return f"{ms:.3f} ms" if ms < 1 else f"{ms:.1f} ms"


def mebibytes(value_bytes: float) -> str:
    mib = value_bytes / 2**20
    return f"{mib:.1f} MiB" if mib < 10 else f"{mib:,.0f} MiB"


def rows_count(value: int) -> str:
    return f"{value:,}"
