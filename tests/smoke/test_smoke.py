"""After a deploy: the stage answers, logs in, stores and reads, trains, predicts, is monitored."""

from __future__ import annotations

import csv
import gzip
import io
import time
import uuid
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "debian-packages-sample.csv.gz"
# The sample's first rows are loaded into a stage holding fewer: enough for a model over its
# sections, few enough for a training of a minute or two with the slower classifier (svc).
MIN_ROWS = 1000


def test_health(anonymous):
    assert anonymous.request("GET", "/healthz").status_code == 200
    response = anonymous.request("GET", "/api/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert anonymous.request("GET", "/ml/health").status_code == 200


def test_auth_needs_a_token(anonymous, api):
    assert anonymous.request("GET", "/api/data/").status_code == 401
    assert api.request("GET", "/api/data/").status_code == 200


def test_crud_round_trip(api):
    text = f"smoke {uuid.uuid4()}"
    created = api.request("POST", "/api/data/", json={"text": text, "label": "smoke"})
    assert created.status_code == 201, created.text
    url = f"/api/data/{created.json()['id']}/"
    assert api.request("GET", url).json()["text"] == text
    updated = api.request("PATCH", url, json={"label": "smoke-updated"})
    assert updated.status_code == 200, updated.text
    assert api.request("GET", url).json()["label"] == "smoke-updated"
    assert api.request("DELETE", url).status_code == 204
    assert api.request("GET", url).status_code == 404


@pytest.fixture(scope="module")
def model_version(api, settings) -> str | None:
    """The model predictions use: trained now on the bundled sample (SMOKE_TRAIN=1), else the
    stage's current one, if any."""
    if not settings["train"]:
        models = api.request("GET", "/api/models/").json()
        return models.get("current")
    if api.request("GET", "/api/data/").json()["count"] < MIN_ROWS:
        with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
            content = "".join(handle.readline() for _ in range(MIN_ROWS + 1))  # the header too
        files = {"file": ("sample.csv", content.encode(), "text/csv")}
        response = api.request("POST", "/api/data/import/", files=files, timeout=120)
        assert response.status_code == 201, response.text[:500]
    response = api.request("POST", "/api/train/")
    # 409: a training already runs; follow it instead.
    assert response.status_code in (202, 409), response.text
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = api.request("GET", f"/api/train/{job_id}/").json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(2)
    assert job["status"] == "succeeded", job
    if job.get("outcome") != "candidate":
        return job["model_version"]
    current = api.request("GET", "/api/models/").json().get("current")
    if current is not None:
        return current  # held back by the gate: the stage keeps serving its production model
    # An empty stage: the sample's first model can fall below the gate's minimum (1,000 rows over
    # dozens of sections), and nothing would serve. It is promoted by hand, with the reason in the
    # stage's audit records, so the rest of the stage is still checked end to end.
    response = api.request(
        "POST",
        f"/api/models/{job['model_version']}/promote/",
        json={"reason": "smoke: the first model of an empty stage, below the gate's minimum"},
    )
    assert response.status_code == 200, response.text
    return job["model_version"]


def test_training_on_the_sample(model_version, settings):
    if not settings["train"]:
        pytest.skip("SMOKE_TRAIN=0: this stage's models are left alone")
    assert model_version


def test_predictions(api, model_version):
    if model_version is None:
        pytest.skip("no model on this stage yet, and SMOKE_TRAIN=0")
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))[:20]
    response = api.request("POST", "/api/predict/", json={"texts": [r["text"] for r in rows]})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == len(rows)
    assert all(p["label"] and p["probabilities"] for p in predictions)


def test_metrics_targets_up(anonymous, settings):
    response = anonymous.request(
        "GET", "/prometheus/api/v1/targets", params={"state": "active"}, auth=settings["ops"]
    )
    assert response.status_code == 200, response.text[:300]
    targets = response.json()["data"]["activeTargets"]
    down = {t["labels"]["job"]: t.get("lastError") for t in targets if t["health"] != "up"}
    jobs = {t["labels"]["job"] for t in targets}
    assert {"web", "algorithm", "algorithm_celery"} <= jobs
    # A target scraped for the first time is "unknown" for up to one interval: ask again.
    deadline = time.monotonic() + 30
    while down and time.monotonic() < deadline:
        time.sleep(5)
        targets = anonymous.request(
            "GET", "/prometheus/api/v1/targets", params={"state": "active"}, auth=settings["ops"]
        ).json()["data"]["activeTargets"]
        down = {t["labels"]["job"]: t.get("lastError") for t in targets if t["health"] != "up"}
    assert not down, down
