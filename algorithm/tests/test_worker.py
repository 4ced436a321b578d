"""End to end through a real Celery worker process on the test Redis.

POST /train -> the worker (started like the container's: `celery -A mlservice.worker worker`)
reads real rows from the data table, trains, publishes -> the job succeeds -> POST /predict
answers from the new model. The worker's heartbeat file doubles as its readiness signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from mlservice import healthcheck
from tests.conftest import ALGORITHM_DIR
from tests.helpers import insert_rows, sample, wait_for

WORKER_START_TIMEOUT = 60
JOB_TIMEOUT = 120


@pytest.fixture
def worker(app, settings, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": settings.celery_broker_url,
        "MODELS_DIR": str(settings.models_dir),
        "WORKER_HEARTBEAT_FILE": str(settings.worker_heartbeat_file),
        "LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mlservice.worker",
                "worker",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{os.getpid()}@%h",
            ],
            cwd=ALGORITHM_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: settings.worker_heartbeat_file.exists() or process.poll() is not None,
            timeout=WORKER_START_TIMEOUT,
        )
        assert process.poll() is None, log_path.read_text()
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown, as `docker stop` does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_train_through_the_worker_then_predict(client, conn, corpus, worker, settings):
    rows = sample(corpus, 1000, seed=42)
    insert_rows(conn, rows)

    submitted = client.post("/train")
    assert submitted.status_code == 202
    job_id = submitted.get_json()["job_id"]

    job = wait_for(
        lambda: (
            (body := client.get(f"/train/{job_id}").get_json())["status"] in ("succeeded", "failed")
            and body
        ),
        timeout=JOB_TIMEOUT,
    )
    assert job["status"] == "succeeded", job["error"]
    assert job["n_samples"] == 1000
    assert job["metrics"]["n_test"] == 250
    assert job["started_at"] <= job["finished_at"]

    assert client.get("/health").get_json()["model_version"] == job["model_version"]
    text, label = rows[0]
    prediction = client.post("/predict", json={"text": text})
    assert prediction.status_code == 200
    body = prediction.get_json()
    assert body["model_version"] == job["model_version"]
    assert body["label"] in {y for _, y in rows}
    assert label in body["probabilities"]


def test_the_worker_keeps_its_heartbeat_fresh(worker, settings):
    assert healthcheck.check_worker(settings.worker_heartbeat_file) is None


def test_the_worker_records_a_failure_for_unusable_data(client, conn, corpus, worker):
    insert_rows(conn, corpus[:3])
    job_id = client.post("/train").get_json()["job_id"]
    job = wait_for(
        lambda: (
            (body := client.get(f"/train/{job_id}").get_json())["status"] in ("succeeded", "failed")
            and body
        ),
        timeout=JOB_TIMEOUT,
    )
    assert job["status"] == "failed"
    assert job["error"] == "Training needs at least 20 rows; the data table has 3."
