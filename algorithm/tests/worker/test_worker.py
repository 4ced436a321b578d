"""End to end through a real Celery worker process on the test Redis.

POST /train -> the worker (started like the container's: `celery -A mlservice.worker.main worker`)
reads real rows from the data table, trains, publishes -> the job succeeds -> POST /predict
answers from the new model. One worker serves the whole module; it reports to a stand-in
Sentry, logs JSON and exports its metrics, and the tests check each.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.events.state import State

from mlservice import create_app
from mlservice.config import Settings
from mlservice.ml.evaluation import is_evaluation_row
from mlservice.ml.recipes import RECIPE_NAMES
from mlservice.observability import healthcheck
from tests.support import (
    TEST_SERVICE_TOKEN,
    TEST_SIGNING_KEY,
    authenticated,
    insert_rows,
    sample,
    wait_for,
)
from tests.support.sentry_stub import SentryStub
from tests.support.worker_process import running_worker

JOB_TIMEOUT = 120
# Single letters: TF-IDF finds no word in them (an unexpected error inside the task).
FIRST_TEXT = "q z x w j"
SECOND_TEXT = "k v y g h"


@pytest.fixture(scope="module")
def sentry_stub():
    with SentryStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def worker_settings(ml_database_url, broker_url, tmp_path_factory) -> Settings:
    workdir = tmp_path_factory.mktemp("worker")
    return Settings(
        database_url=ml_database_url,
        celery_broker_url=broker_url,
        models_dir=workdir / "models",
        worker_heartbeat_file=workdir / "heartbeat",
        ml_service_token=TEST_SERVICE_TOKEN,
        model_signing_key=TEST_SIGNING_KEY,
    )


@pytest.fixture(scope="module")
def worker(worker_settings, sentry_stub, tmp_path_factory, database_url):
    with running_worker(
        worker_settings,
        tmp_path_factory.mktemp("worker-run"),
        SENTRY_DSN=sentry_stub.dsn,
        SENTRY_ENVIRONMENT="worker-tests",
        SENTRY_RELEASE="textclf@test",
    ) as process:
        yield process


@pytest.fixture
def client(worker, worker_settings, conn):
    app = create_app(worker_settings)
    app.extensions["celery"].control.purge()
    return authenticated(app.test_client())


def finished_job(client, job_id: str) -> dict:
    return wait_for(
        lambda: (
            (body := client.get(f"/train/{job_id}").get_json())["status"] in ("succeeded", "failed")
            and body
        ),
        timeout=JOB_TIMEOUT,
    )


def test_train_through_the_worker_then_predict(client, conn, corpus, worker):
    rows = sample(corpus, 1000, seed=42)
    insert_rows(conn, rows)

    submitted = client.post("/train", headers={"X-Request-ID": "req-train-e2e-42"})
    assert submitted.status_code == 202
    assert submitted.headers["X-Request-ID"] == "req-train-e2e-42"
    job_id = submitted.get_json()["job_id"]

    job = finished_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["n_samples"] == 1000
    ids = [row[0] for row in conn.execute("SELECT id FROM data")]
    assert job["metrics"]["n_test"] == sum(map(is_evaluation_row, ids))
    assert job["started_at"] <= job["finished_at"]

    assert client.get("/health").get_json()["model_version"] == job["model_version"]
    text, label = rows[0]
    prediction = client.post("/predict", json={"text": text})
    assert prediction.status_code == 200
    body = prediction.get_json()
    assert body["model_version"] == job["model_version"]
    assert body["label"] in {y for _, y in rows}
    assert label in body["probabilities"]


def test_one_request_id_follows_a_training_into_the_worker_logs(client, conn, corpus, worker):
    insert_rows(conn, sample(corpus, 300, seed=5))
    job_id = client.post("/train", headers={"X-Request-ID": "req-grep-me-123"}).get_json()["job_id"]
    job = finished_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]

    def records_up_to_success():
        # The job is recorded as succeeded just before the worker logs it.
        records = [r for r in worker.log_records() if r.get("request_id") == "req-grep-me-123"]
        done = any(r["event"] == "Training job succeeded" for r in records)
        # Celery logs the task's own end line right after the service's last line.
        traced = any(r["logger"] == "celery.app.trace" for r in records)
        return done and traced and records

    records = wait_for(records_up_to_success, timeout=60)
    assert {r["service"] for r in records} == {"worker"}
    assert all(r["job_id"] == job_id for r in records if r["logger"].startswith("mlservice"))
    succeeded = next(r for r in records if r["event"] == "Training job succeeded")
    assert succeeded["model_version"] == job["model_version"]
    assert succeeded["level"] == "info"
    assert succeeded["timestamp"].endswith("Z")
    # Celery's own lines about the task carry the id too.
    assert any(r["logger"].startswith("celery") for r in records)


@contextlib.contextmanager
def watching_events(celery: Celery) -> Iterator[list[tuple[dict, str, object]]]:
    """Every Celery event the worker sends meanwhile, fed to the task model Flower keeps (its
    EventsState is this State plus counters); each with the task's state and result after it."""
    state = State()
    seen: list[tuple[dict, str, object]] = []

    def on_event(event: dict) -> None:
        state.event(event)
        task = state.tasks.get(event.get("uuid")) if event.get("uuid") else None
        seen.append((event, getattr(task, "state", None), getattr(task, "result", None)))

    with celery.connection_for_read() as connection:
        receiver = celery.events.Receiver(connection, handlers={"*": on_event})
        thread = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
        thread.start()
        try:
            # Subscribed once the worker's own heartbeat events arrive (every 2 s).
            wait_for(lambda: any(e["type"] == "worker-heartbeat" for e, _, _ in seen), timeout=15)
            yield seen
        finally:
            receiver.should_stop = True
            thread.join(timeout=10)


def test_a_training_reports_its_progress_on_the_job_and_to_flower(client, conn, corpus, worker):
    insert_rows(conn, sample(corpus, 1000, seed=8))
    with watching_events(client.application.extensions["celery"]) as seen:
        job_id = client.post("/train").get_json()["job_id"]
        job = finished_job(client, job_id)
        assert job["status"] == "succeeded", job["error"]
        wait_for(lambda: any(e["type"] == "task-succeeded" for e, _, _ in seen), timeout=15)

    # The finished job keeps its last progress: the run ended publishing.
    assert set(job["progress"]) == {"phase", "done", "total", "updated_at"}
    assert job["progress"]["phase"] == "publishing"
    assert job["progress"]["updated_at"] >= job["started_at"]

    task_events = [(e, state, result) for e, state, result in seen if e.get("uuid") == job_id]
    progress = [
        (e["progress"], state, result)
        for e, state, result in task_events
        if e["type"] == "task-progress"
    ]
    phases = [p["phase"] for p, _, _ in progress]
    # Phase changes are announced at once; counts within a phase may be throttled away. One
    # fitting + evaluating per recipe evaluated (the budget may skip costly ones), then the
    # final fit.
    changes = [phase for i, phase in enumerate(phases) if i == 0 or phases[i - 1] != phase]
    evaluated = (len(changes) - 3) // 2
    assert 1 <= evaluated <= len(RECIPE_NAMES)
    assert changes == [
        "reading_rows",
        *["fitting", "evaluating"] * evaluated,
        "fitting",
        "publishing",
    ]
    assert progress[0][0]["done"] == 0
    assert progress[0][0]["total"] == 1000
    # While the task runs, Flower's task list shows state PROGRESS and the summary as result.
    assert all(state == "PROGRESS" for _, state, _ in progress)
    results = [result for _, _, result in progress]
    assert results[0] == "reading_rows 0/1000"
    final = len(RECIPE_NAMES)
    assert {
        f"fitting 0/{final + 1}",
        "evaluating",
        f"fitting {final}/{final + 1}",
        "publishing",
    } <= set(results)
    assert progress[-1][0] == job["progress"]
    assert task_events[-1][0]["type"] == "task-succeeded"
    assert task_events[-1][1] == "SUCCESS"


def test_the_worker_keeps_its_heartbeat_fresh(worker, worker_settings):
    assert healthcheck.check_worker(worker_settings.worker_heartbeat_file) is None


def test_the_worker_records_a_failure_for_unusable_data(client, conn, corpus, worker):
    insert_rows(conn, corpus[:3])
    job = finished_job(client, client.post("/train").get_json()["job_id"])
    assert job["status"] == "failed"
    assert job["error"] == "Training needs at least 20 rows; the data table has 3."


def test_a_table_crafted_with_too_many_labels_fails_the_job_in_the_worker(client, conn, worker):
    """A consumer may add rows; one label per row must not reach the fit (or the memory it
    would take), only a clear error on the job."""
    insert_rows(conn, [(f"package {i} does things", f"crafted-{i}") for i in range(5000)])
    current = client.get("/models").get_json()["current"]  # earlier tests of the module trained
    job = finished_job(client, client.post("/train").get_json()["job_id"])
    assert job["status"] == "failed"
    assert job["error"] == (
        "Training data has 5,000 labels; at most TRAIN_MAX_LABELS=500 are allowed."
    )
    assert client.get("/models").get_json()["current"] == current


def test_a_task_exception_reaches_sentry(client, conn, worker, sentry_stub):
    # Texts without a single two-letter word leave TF-IDF an empty vocabulary: an unexpected
    # error inside the task, not a data-validation failure.
    insert_rows(conn, [(FIRST_TEXT, "first"), (SECOND_TEXT, "second")] * 15)
    job = finished_job(client, client.post("/train").get_json()["job_id"])
    assert job["status"] == "failed"
    assert job["error"].startswith("ValueError: empty vocabulary")

    event = sentry_stub.wait_for_event(
        lambda e: e["exception"]["values"][-1]["value"].startswith("empty vocabulary"),
        timeout=15,
    )
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["environment"] == "worker-tests"
    assert event["release"] == "textclf@test"
    assert event["tags"]["service"] == "worker"
    assert event["tags"]["celery_task_id"]
    # The training rows were in the task's stack frames; none of them is sent.
    sent = json.dumps(event)
    assert FIRST_TEXT not in sent
    assert SECOND_TEXT not in sent


def test_the_worker_exports_its_metrics(client, conn, corpus, worker):
    insert_rows(conn, sample(corpus, 300, seed=9))
    assert finished_job(client, client.post("/train").get_json()["job_id"])["status"] == (
        "succeeded"
    )
    exported = (
        urllib.request.urlopen(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    samples = dict(
        line.rsplit(" ", 1) for line in exported.splitlines() if line and not line.startswith("#")
    )
    assert samples["celery_worker_up"] == "1.0"
    assert 'celery_queue_length{queue="training"}' in samples
    assert 'celery_queue_length{queue="control"}' in samples
    for state in ("received", "started", "succeeded"):
        key = f'celery_tasks_total{{state="{state}",task="mlservice.train_model"}}'
        assert float(samples[key]) >= 1
    assert float(samples['ml_training_runs_total{outcome="succeeded"}']) >= 1
    assert float(samples["ml_training_rows"]) == 300
    assert float(samples["ml_training_last_success_timestamp_seconds"]) > 0
    assert float(samples["ml_training_duration_seconds_count"]) >= 1
    assert samples['build_info{revision="unknown",version="dev"}'] == "1.0"
    # The API's families belong to the API's exporter, not this one.
    assert not any(name.startswith(("ml_model_", "http_requests")) for name in samples)


def test_switching_back_to_a_kept_version_through_the_worker(client, conn, corpus, worker):
    versions = []
    insert_rows(conn, sample(corpus, 300, seed=1))
    # The same rows again (forced: unchanged data is skipped otherwise) fit the same model, which
    # the promotion gate passes, so the newer version is production.
    for body in ({}, {"force": True}):
        job = finished_job(client, client.post("/train", json=body).get_json()["job_id"])
        assert job["status"] == "succeeded", job["error"]
        assert job["outcome"] == "promoted", job["note"]
        versions.append(job["model_version"])
    older, newer = versions
    assert client.post("/predict", json={"text": "x y"}).get_json()["model_version"] == newer

    response = client.post(f"/models/{older}/activate", headers={"X-Request-ID": "rid-switch"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"current": older}
    # This API process serves the older version from its very next request.
    assert client.post("/predict", json={"text": "x y"}).get_json()["model_version"] == older
    assert client.get("/models").get_json()["current"] == older
    records = wait_for(
        lambda: [r for r in worker.log_records() if r.get("request_id") == "rid-switch"],
        timeout=10,
    )
    assert any(r["event"] == "Activated model version" for r in records)
