"""Faults under a real worker: its training process killed with SIGKILL mid-training, and a
job left 'running' by a worker that died before this one started."""

from __future__ import annotations

import os
import signal
import uuid

import pytest

from mlservice import create_app
from mlservice.store import artifacts
from mlservice.training import jobs
from tests.support import authenticated, insert_rows, publish, sample, wait_for
from tests.support.worker_process import running_worker

JOB_TIMEOUT = 180


@pytest.fixture
def client(settings, conn):
    app = create_app(settings)
    app.extensions["celery"].control.purge()
    return authenticated(app.test_client())


@pytest.fixture
def stale_job(conn):
    """A job whose worker died two minutes ago, left 'running'."""
    job = jobs.create(conn)
    conn.execute(
        "UPDATE training_job SET status = 'running', started_at = now(), attempts = 1,"
        " fence = nextval('training_job_fence_seq'), worker = 'gone-host:1',"
        " heartbeat_at = now() - interval '2 minutes' WHERE id = %s",
        [job.job_id],
    )
    return job


@pytest.fixture
def worker(client, settings, tmp_path):
    with running_worker(settings, tmp_path) as process:
        yield process


@pytest.fixture
def worker_after_a_crash(stale_job, worker):
    return worker


def _job_once(conn, job_id: uuid.UUID, statuses: tuple[str, ...]):
    job = jobs.get(conn, job_id)
    return job if job.status in statuses else None


def test_the_worker_fails_a_dead_workers_job_at_start_up(worker_after_a_crash, conn, stale_job):
    lost = wait_for(lambda: _job_once(conn, stale_job.job_id, ("failed",)), timeout=10)
    assert lost.error.startswith("worker lost (no heartbeat for")


def test_killing_the_training_process_never_leaves_the_job_running(
    client, conn, corpus, worker, settings
):
    previous = publish(settings.models_dir, model={"m": 1}, vectorizer={"v": 1})
    insert_rows(conn, sample(corpus, 15000, seed=3))  # several seconds of training
    job_id = uuid.UUID(client.post("/train").get_json()["job_id"])

    running = wait_for(lambda: _job_once(conn, job_id, ("running",)), timeout=30)
    pid = int(running.worker.rpartition(":")[2])
    assert pid in worker.child_pids()  # the pool process running the task
    os.kill(pid, signal.SIGKILL)
    assert artifacts.current_version(settings.models_dir) == previous  # nothing half-published

    finished = wait_for(
        lambda: _job_once(conn, job_id, ("succeeded", "failed")), timeout=JOB_TIMEOUT
    )
    # Requeued (reject_on_worker_lost), taken over because its process is gone, and done.
    assert finished.status == "succeeded", finished.error
    assert finished.attempts == 2
    assert finished.worker != running.worker
    assert artifacts.current_version(settings.models_dir) == finished.model_version
    assert worker.process.poll() is None  # the worker itself survived
