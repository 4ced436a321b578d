"""scripts/deploy's bookkeeping without Docker: the promotion gate, status and rollback refusals,
read from a stage's records (seconds; part of `make test`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from stages import DEPLOY


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "stages").mkdir()
    for stage in ("staging", "production"):
        (tmp_path / "stages" / f"{stage}.env").write_text(f"DEPLOY_PROJECT=textclf-x-{stage}\n")
    (tmp_path / "state").mkdir()
    return tmp_path


def deploy(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DEPLOY_STAGES_DIR": str(folder / "stages"),
        "DEPLOY_STATE_DIR": str(folder / "state"),
        "DEPLOY_RELEASES_DIR": str(folder / "releases"),
    }
    return subprocess.run([DEPLOY, *args], env=env, capture_output=True, text=True, timeout=60)


def write_records(folder: Path, stage: str, *records: dict) -> None:
    lines = "".join(json.dumps({"stage": stage, **r}) + "\n" for r in records)
    (folder / "state" / f"{stage}.jsonl").write_text(lines)


def deployed(release: str, previous: str | None, finished: str, outcome="succeeded") -> dict:
    return {
        "event": "deploy",
        "kind": "deploy",
        "release": release,
        "previous": previous,
        "started": finished,
        "finished": finished,
        "outcome": outcome,
    }


def smoke(release: str, time: str, outcome: str) -> dict:
    return {"event": "smoke", "release": release, "time": time, "outcome": outcome}


@pytest.mark.parametrize(
    ("records", "why"),
    [
        ((), "staging runs no release to promote"),
        (
            (deployed("r2", "r1", "2026-01-02T00:00:00Z"),),
            "refusing to promote r2: no smoke run since its deploy on staging",
        ),
        (
            (
                deployed("r2", "r1", "2026-01-02T00:00:00Z"),
                smoke("r2", "2026-01-02T00:05:00Z", "failed"),
            ),
            "refusing to promote r2: its smoke run failed on staging",
        ),
        (
            # A pass from before the release's latest deploy to staging does not count.
            (
                smoke("r2", "2026-01-01T00:05:00Z", "passed"),
                deployed("r2", "r1", "2026-01-02T00:00:00Z"),
            ),
            "refusing to promote r2: no smoke run since its deploy on staging",
        ),
        (
            (
                deployed("r2", "r1", "2026-01-02T00:00:00Z"),
                smoke("r2", "2026-01-02T00:05:00Z", "passed"),
                smoke("r2", "2026-01-02T00:09:00Z", "failed"),
            ),
            "refusing to promote r2: its smoke run failed on staging",
        ),
    ],
)
def test_promote_refuses_a_release_without_a_passed_smoke_run(folder, records, why):
    write_records(folder, "staging", *records)

    result = deploy(folder, "promote")

    assert result.returncode == 1
    assert why in result.stderr
    assert not (folder / "state" / "production.jsonl").exists()


def test_a_rolled_back_deploy_leaves_the_release_before_it_in_place(folder):
    write_records(
        folder,
        "production",
        deployed("r1", None, "2026-01-01T00:00:00Z"),
        deployed("r2", "r1", "2026-01-02T00:00:00Z"),
        deployed("r3", "r2", "2026-01-03T00:00:00Z", outcome="rolled-back")
        | {"reason": "web: exited with code 3"},
    )
    (folder / "releases").mkdir()
    (folder / "releases" / "r2.json").write_text(json.dumps({"images": {}}))

    status = deploy(folder, "status", "production").stdout

    assert "release:  r2 since 2026-01-02T00:00:00Z (deploy)" in status
    assert "previous: r1" in status
    assert "last deploy: r3 rolled-back at 2026-01-03T00:00:00Z: web: exited with code 3" in status


def test_rollback_needs_a_previous_release(folder):
    write_records(folder, "production", deployed("r1", None, "2026-01-01T00:00:00Z"))

    result = deploy(folder, "rollback", "production")

    assert result.returncode == 1
    assert "production has no previous release to go back to" in result.stderr


def test_a_stage_needs_its_env_file(folder):
    result = deploy(folder, "status", "qa")

    assert result.returncode == 1
    assert "stage qa has no" in result.stderr
    assert "qa.env.example" in result.stderr
