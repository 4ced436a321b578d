"""A training whose process or worker dies: the job never stays `running`, the previous model
serves throughout, and redeliveries are capped.

The training process is the Celery prefork pool child that burns CPU inside algorithm_celery,
found through /proc (harness.kill_training_process) and killed with SIGKILL mid-fit.
"""

import time

import pytest

from chaos_stack import train
from faults import kill_training_process, wait_until

# The contract's lease (60 s) and heartbeat (10 s), a training of the full table, and slack.
JOB_END_TIMEOUT = 360
# Into the run before the kill: the rows are read, the fit is under way.
KILL_AFTER_RUNNING_SECONDS = 8
TRAIN_MAX_ATTEMPTS = 2


def start_training(api) -> str:
    response = api.post("/api/train/", json={"force": True})  # a real fit, never a skip
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def wait_running(api, job_id: str) -> dict:
    _, job = wait_until(
        lambda: api.get(f"/api/train/{job_id}/").json(),
        lambda job: job["status"] != "queued",
        timeout=120,
        what="job running",
    )
    assert job["status"] == "running", job
    return job


def kill_mid_training(stack) -> dict:
    _, killed = wait_until(
        lambda: kill_training_process(stack),
        lambda answer: "killed" in answer,
        timeout=60,
        interval=0.5,
        what="a busy pool child to kill",
    )
    return killed


def assert_previous_model_served(background, since: float, allowed: set[str]) -> dict:
    predictions = background.calls("predict", since=since)
    assert predictions, "no background prediction during the fault"
    outcomes = {(c.status, c.model_version) for c in predictions}
    assert outcomes <= {(200, version) for version in allowed}, outcomes
    return {"predictions": len(predictions), "max_seconds": max(c.seconds for c in predictions)}


def test_kill_9_of_the_training_process_fails_the_job_or_retries_it_once(
    stack, admin, current_model, background, measured
):
    previous = current_model
    started = time.monotonic()
    job_id = start_training(admin)
    wait_running(admin, job_id)
    time.sleep(KILL_AFTER_RUNNING_SECONDS)
    killed = kill_mid_training(stack)
    killed_at = time.monotonic()
    measured["killed_after_start_seconds"] = round(killed_at - started, 1)
    measured["killed_rss_bytes"] = killed["killed_rss_bytes"]

    job = admin.wait_for_job(job_id, timeout=JOB_END_TIMEOUT)
    measured["kill_to_end_seconds"] = round(time.monotonic() - killed_at, 1)
    measured["status"] = job["status"]
    measured["error"] = job["error"]
    measured["attempts"] = job.get("attempts")

    if job["status"] == "failed":
        assert job["error"], job
        allowed = {previous}
    else:
        assert job["status"] == "succeeded", job
        assert job.get("attempts") == 2, job  # retried exactly once
        allowed = {previous, job["model_version"]}
    measured.update(assert_previous_model_served(background, started, allowed))

    if job["status"] == "failed":  # not stuck: the next training starts and publishes
        follow_up = train(admin)
        assert follow_up["status"] == "succeeded", follow_up


def test_a_job_killed_on_every_attempt_gives_up_with_a_reason(
    stack, admin, current_model, background, measured
):
    previous = current_model
    started = time.monotonic()
    job_id = start_training(admin)
    wait_running(admin, job_id)
    kills = []
    deadline = time.monotonic() + JOB_END_TIMEOUT
    job = admin.get(f"/api/train/{job_id}/").json()
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job still {job['status']} after {JOB_END_TIMEOUT} s"
        if job["status"] == "running":
            answer = kill_training_process(stack)
            if "killed" in answer:
                kills.append(round(time.monotonic() - started, 1))
        time.sleep(1)
        job = admin.get(f"/api/train/{job_id}/").json()
    measured["kills_at_seconds"] = kills
    measured["end_seconds"] = round(time.monotonic() - started, 1)
    measured["error"] = job["error"]
    measured["attempts"] = job.get("attempts")

    assert job["status"] == "failed", job
    assert job["error"], job
    assert 1 <= len(kills) <= TRAIN_MAX_ATTEMPTS, kills  # no attempt beyond the cap started
    measured.update(assert_previous_model_served(background, started, {previous}))


def test_a_job_whose_worker_vanished_is_failed_with_a_reason(
    stack, admin, current_model, background, measured
):
    previous = current_model
    started = time.monotonic()
    job_id = start_training(admin)
    wait_running(admin, job_id)
    time.sleep(3)
    stack.kill("algorithm_celery")
    killed_at = time.monotonic()
    try:
        job = admin.wait_for_job(job_id, timeout=JOB_END_TIMEOUT)
        measured["worker_gone_to_failed_seconds"] = round(time.monotonic() - killed_at, 1)
        measured["error"] = job["error"]
    finally:
        stack.start("algorithm_celery")
        stack.wait_healthy("algorithm_celery")
    assert job["status"] == "failed", job
    assert job["error"], job
    measured.update(assert_previous_model_served(background, started, {previous}))


@pytest.fixture(autouse=True)
def no_active_job(admin):
    """Each case starts from an idle queue (a case that failed may have left a job behind)."""
    for job in admin.get("/api/train/", params={"limit": 5}).json()["results"]:
        if job["status"] in ("queued", "running"):
            admin.wait_for_job(job["job_id"], timeout=JOB_END_TIMEOUT)
