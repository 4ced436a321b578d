import base64
import json
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis

from mlservice import create_app
from mlservice.training import jobs
from tests.support import TEST_SERVICE_TOKEN, authenticated, serve

JOB_FIELDS = {
    "job_id",
    "status",
    "error",
    "model_version",
    "metrics",
    "n_samples",
    "created_at",
    "started_at",
    "finished_at",
    "attempts",
    "stats",
    "progress",
    "outcome",
    "note",
}


def test_post_train_queues_a_job(client, conn):
    response = client.post("/train")
    assert response.status_code == 202
    body = response.get_json()
    assert body == {"job_id": body["job_id"], "status": "queued"}
    assert uuid.UUID(body["job_id"]).version == 4
    assert jobs.get(conn, uuid.UUID(body["job_id"])).status == "queued"


def test_post_train_accepts_an_empty_json_object(client):
    assert client.post("/train", json={}).status_code == 202


def test_a_second_job_while_one_is_active_is_a_conflict(client):
    first = client.post("/train").get_json()["job_id"]
    response = client.post("/train")
    assert response.status_code == 409
    assert response.get_json() == {
        "detail": "A training job is already queued or running.",
        "job_id": first,
    }


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"classifier": "svc"}}, 400),
        ({"json": []}, 400),
        ({"json": "train"}, 400),
        ({"data": "null", "content_type": "application/json"}, 400),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "classifier=svc", "content_type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_post_train_rejects_any_body_but_an_empty_object(client, conn, kwargs, status):
    response = client.post("/train", **kwargs)
    assert response.status_code == status
    assert response.get_json()["detail"]
    assert jobs.list_recent(conn, limit=10) == []  # nothing half-saved


def test_an_unreachable_broker_is_a_quick_503_and_frees_the_slot(settings, conn):
    dead_broker = settings.replace(celery_broker_url="redis://127.0.0.1:1/15")
    response = authenticated(create_app(dead_broker).test_client()).post("/train")
    assert response.status_code == 503
    assert "not queued" in response.get_json()["detail"]

    (job,) = jobs.list_recent(conn, limit=10)
    assert job.status == "failed"
    assert "broker is unreachable" in job.error
    # No stuck 'queued' row: once the broker is back, training can be requested again.
    assert authenticated(create_app(settings).test_client()).post("/train").status_code == 202


def test_an_unreachable_database_is_a_503(settings):
    dead_db = settings.replace(database_url="postgresql://postgres@127.0.0.1:1/none")
    client = authenticated(create_app(dead_db).test_client())
    for response in (client.post("/train"), client.get("/train")):
        assert response.status_code == 503
        assert "database is unavailable" in response.get_json()["detail"]


def test_get_job_returns_every_field(client):
    job_id = client.post("/train").get_json()["job_id"]
    response = client.get(f"/train/{job_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == JOB_FIELDS
    assert body["job_id"] == job_id
    assert body["status"] == "queued"
    assert body["created_at"].endswith("Z")
    assert body["started_at"] is None
    assert body["progress"] is None


def test_a_running_jobs_progress_is_shown_by_get_and_list(client, conn):
    job_id = client.post("/train").get_json()["job_id"]
    claim = jobs.claim(
        conn,
        uuid.UUID(job_id),
        worker="host:1",
        lease=timedelta(seconds=60),
        max_attempts=2,
        owner_is_gone=lambda owner: False,
    )
    progress = {
        "phase": "reading_rows",
        "done": 300,
        "total": 1000,
        "updated_at": "2026-01-01T00:00:00Z",
    }
    assert jobs.set_progress(conn, uuid.UUID(job_id), fence=claim.fence, progress=progress)

    assert client.get(f"/train/{job_id}").get_json()["progress"] == progress
    (listed,) = client.get("/train").get_json()["results"]
    assert listed["progress"] == progress


@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_or_malformed_job_ids_are_404(client, job_id):
    response = client.get(f"/train/{job_id}")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Training job not found."}


def test_list_jobs_newest_first(client, conn):
    created = []
    for _ in range(3):
        job_id = client.post("/train").get_json()["job_id"]
        jobs.mark_failed(conn, uuid.UUID(job_id), error="stopped by the test")
        created.append(job_id)
    response = client.get("/train")
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [job["job_id"] for job in results] == created[::-1]
    assert results[0]["status"] == "failed"
    assert results[0]["error"] == "stopped by the test"


def test_list_jobs_honours_limit(client, conn):
    for _ in range(3):
        job_id = client.post("/train").get_json()["job_id"]
        jobs.mark_failed(conn, uuid.UUID(job_id), error="stop")
    assert len(client.get("/train?limit=2").get_json()["results"]) == 2
    assert len(client.get("/train?limit=1000").get_json()["results"]) == 3


@pytest.mark.parametrize("limit", ["0", "-1", "ten", ""])
def test_list_jobs_rejects_a_bad_limit(client, limit):
    response = client.get(f"/train?limit={limit}")
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"limit": ["Must be a positive integer."]}


def test_ten_concurrent_submissions_queue_exactly_one_job(app, conn):
    """Ten clients POST /train at the same moment, over real HTTP to a threaded server."""
    with serve(app) as base_url:
        start = threading.Barrier(10)

        def submit(_):
            request = urllib.request.Request(
                f"{base_url}/train",
                method="POST",
                headers={"X-Service-Token": TEST_SERVICE_TOKEN},
            )
            start.wait()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(submit, range(10)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [202] + [409] * 9
    (accepted,) = [body for status, body in results if status == 202]
    assert {body["job_id"] for status, body in results if status == 409} == {accepted["job_id"]}
    assert [job.job_id for job in jobs.list_recent(conn, limit=20)] == [
        uuid.UUID(accepted["job_id"])
    ]


def _stale_running_job(conn, *, seconds_since_heartbeat: int):
    job = jobs.create(conn)
    conn.execute(
        "UPDATE training_job SET status = 'running', started_at = now(), attempts = 1,"
        " fence = nextval('training_job_fence_seq'), worker = 'gone:1',"
        " heartbeat_at = now() - make_interval(secs => %s) WHERE id = %s",
        [seconds_since_heartbeat, job.job_id],
    )
    return job


@pytest.mark.parametrize("read", ["list", "detail"])
def test_readers_never_see_a_job_whose_worker_is_gone(client, conn, read):
    job = _stale_running_job(conn, seconds_since_heartbeat=75)
    if read == "list":
        (body,) = client.get("/train").get_json()["results"]
    else:
        body = client.get(f"/train/{job.job_id}").get_json()
    assert body["status"] == "failed"
    assert body["error"] == "worker lost (no heartbeat for 75 s)"
    assert body["attempts"] == 1


def test_a_job_with_a_fresh_heartbeat_stays_running(client, conn):
    job = _stale_running_job(conn, seconds_since_heartbeat=5)
    assert client.get(f"/train/{job.job_id}").get_json()["status"] == "running"
    assert client.post("/train").status_code == 409


def test_a_new_submission_replaces_a_job_whose_worker_is_gone(client, conn):
    lost = _stale_running_job(conn, seconds_since_heartbeat=61)
    assert client.post("/train").status_code == 202
    assert jobs.get(conn, lost.job_id).status == "failed"


@pytest.mark.parametrize("body", [{"force": "yes"}, {"force": 1}, {"forced": True}])
def test_force_must_be_a_boolean(client, body):
    response = client.post("/train", json=body)
    assert response.status_code == 400
    assert "detail" in response.get_json()


def test_force_travels_with_the_job_to_the_worker(client, settings):
    response = client.post("/train", json={"force": True})
    assert response.status_code == 202
    (raw,) = redis.Redis.from_url(settings.celery_broker_url.get_secret_value()).lrange(
        "training", 0, -1
    )
    _, kwargs, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
    assert kwargs == {"force": True}
