"""Ten concurrent POST /api/train/: exactly one is accepted and exactly one training runs."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from harness import Api

CONCURRENT = 10


def test_ten_concurrent_trainings_start_exactly_one(
    stack, admin, current_model, background, measured
):
    for job in admin.get("/api/train/", params={"limit": 5}).json()["results"]:
        if job["status"] in ("queued", "running"):
            admin.wait_for_job(job["job_id"], timeout=600)
    before = {
        job["job_id"] for job in admin.get("/api/train/", params={"limit": 100}).json()["results"]
    }

    barrier = threading.Barrier(CONCURRENT)
    token = admin.session.headers["Authorization"].split()[1]

    def post(_):
        api = Api(stack.base_url, token)
        barrier.wait()
        return api.post("/api/train/")

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(post, range(CONCURRENT)))
    measured["all_answered_seconds"] = round(time.monotonic() - started, 2)
    statuses = Counter(r.status_code for r in responses)
    measured["statuses"] = dict(statuses)

    assert statuses == {202: 1, 409: CONCURRENT - 1}, statuses
    (accepted,) = [r.json()["job_id"] for r in responses if r.status_code == 202]
    assert {r.json()["job_id"] for r in responses if r.status_code == 409} == {accepted}

    job = admin.wait_for_job(accepted, timeout=900)
    assert job["status"] == "succeeded", job
    after = {
        job["job_id"] for job in admin.get("/api/train/", params={"limit": 100}).json()["results"]
    }
    assert after - before == {accepted}
