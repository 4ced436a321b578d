"""The swarm is built once per session (scripts/swarm up; the release built by scripts/deploy
release unless tests/swarm/run was given one; scripts/swarm push and deploy) and torn down at the
end, unless SWARM_KEEP=1. Measured figures are collected in `figures` and printed after the run."""

from __future__ import annotations

import csv
import gzip
import os
import random
import time
from pathlib import Path

import pytest

import swarm

DATA_CSV = Path(
    os.environ.get("DATA_CSV", swarm.ROOT.parent / "shared" / "data" / "debian-packages.csv.gz")
)
TRAIN_ROWS = 3000

FIGURES: dict[str, str] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, str]:
    return FIGURES


@pytest.fixture(scope="session")
def stack(figures):
    started = time.monotonic()
    if os.environ.get("SWARM_REUSE") != "1":
        swarm.rig("up")
        figures["swarm up (3 nodes, registry)"] = f"{time.monotonic() - started:.0f} s"
        if os.environ.get("SWARM_BUILD_RELEASE") == "1":
            mark = time.monotonic()
            swarm.run(
                str(swarm.ROOT / "scripts" / "deploy"),
                "release",
                "--tag",
                swarm.RELEASE,
                timeout=1800,
            )
            figures["make release (build cached)"] = f"{time.monotonic() - mark:.0f} s"
        mark = time.monotonic()
        swarm.rig("push", swarm.RELEASE)
        figures["push the release to the registry"] = f"{time.monotonic() - mark:.0f} s"
        mark = time.monotonic()
        swarm.rig("deploy", swarm.RELEASE)
        swarm.rig("wait", "900")
        figures["deploy until every service converged"] = f"{time.monotonic() - mark:.0f} s"
    yield
    if os.environ.get("SWARM_KEEP") != "1":
        swarm.rig("down")
        label = f"label={swarm.RIG_LABEL}"
        left = [
            swarm.run("docker", *command, "-q", "--filter", label).split()
            for command in (("container", "ls", "-a"), ("volume", "ls"), ("network", "ls"))
        ]
        assert not any(left), f"left after scripts/swarm down: {left}"


@pytest.fixture(scope="session")
def corpus() -> list[dict[str, str]]:
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        rows = [{"text": r["text"], "label": r["label"]} for r in csv.DictReader(handle)]
    return random.Random(15).sample(rows, TRAIN_ROWS)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("measured on the swarm")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
