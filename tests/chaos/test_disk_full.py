"""Disk full on the models volume: the training fails with a clear reason, `current` is untouched.

The module swaps the `models` volume for a 24 MB tmpfs (docker-compose.disk-full.yml) while the
table is still small: a model of 2,000 rows (~6 MB) fits, then a model of all 63k rows (~39 MB)
cannot be written. Afterwards the ordinary volume comes back (empty; the next module trains).
"""

import json
import re
import subprocess
import time

import pytest

from chaos_stack import PROJECT, chaos_stack, load_rows, row_count, train

SMALL_ROWS = 2000
NO_SPACE = re.compile(r"no space|ENOSPC|disk.*full|full.*disk|errno 28", re.IGNORECASE)


def swap_models_volume(*, disk_full: bool) -> None:
    base = chaos_stack()
    base.compose("rm", "--force", "--stop", "algorithm", "algorithm_celery")
    subprocess.run(
        ["docker", "volume", "rm", "--force", f"{PROJECT}_models"],
        check=True,
        capture_output=True,
    )
    chaos_stack(disk_full=disk_full).up()


@pytest.fixture(scope="module")
def tmpfs_models(stack, admin):
    assert row_count(admin) <= SMALL_ROWS, "needs a fresh stack: run tests/chaos/run"
    swap_models_volume(disk_full=True)
    yield chaos_stack(disk_full=True)
    swap_models_volume(disk_full=False)


def models_usage(stack) -> dict:
    script = (
        "import json, os; s = os.statvfs('/models'); "
        "tmp = os.listdir('/models/tmp') if os.path.isdir('/models/tmp') else []; "
        "print(json.dumps({'size': s.f_blocks * s.f_frsize, "
        "'used': (s.f_blocks - s.f_bfree) * s.f_frsize, 'staging': tmp, "
        "'current': os.readlink('/models/current') if os.path.islink('/models/current') else None"
        "}))"
    )
    result = stack.exec("algorithm_celery", "python", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_full_models_volume_fails_training_and_keeps_the_current_model(
    tmpfs_models, admin, corpus, references, background, measured
):
    stack = tmpfs_models
    with background.paused():  # its transient rows would shift load_rows' offset in the corpus
        load_rows(admin, corpus, SMALL_ROWS)
    small_job = train(admin)
    assert small_job["status"] == "succeeded", small_job
    small = small_job["model_version"]
    assert references.observe() == small
    before = models_usage(stack)
    versions_before = [m["version"] for m in admin.get("/api/models/").json()["results"]]
    measured["volume_bytes"] = before["size"]
    measured["used_after_small_model_bytes"] = before["used"]

    with background.paused():
        measured["rows"] = load_rows(admin, corpus, len(corpus))
    assert measured["rows"] == len(corpus)
    started = time.monotonic()
    response = admin.post("/api/train/")
    assert response.status_code == 202, response.text
    job = admin.wait_for_job(response.json()["job_id"], timeout=900)
    measured["job_seconds"] = round(time.monotonic() - started, 1)
    measured["job_error"] = job["error"]

    assert job["status"] == "failed", job
    assert job["error"] and NO_SPACE.search(job["error"]), job["error"]
    assert job["model_version"] is None

    models = admin.get("/api/models/").json()
    assert models["current"] == small
    assert [m["version"] for m in models["results"]] == versions_before
    assert references.observe() == small  # same version, same probabilities

    predictions = background.calls("predict", since=started)
    assert predictions
    assert {(c.status, c.model_version) for c in predictions} == {(200, small)}

    after = models_usage(stack)
    measured["used_after_failed_training_bytes"] = after["used"]
    measured["staging_left"] = after["staging"]
    assert after["current"].endswith(small)
    assert not [name for name in after["staging"] if not name.startswith(".")], after["staging"]
    assert after["used"] <= before["used"] + 1024 * 1024
