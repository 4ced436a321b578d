"""Mixed CRUD and predict against nginx, with a training published in the middle of the run.

Violations (each makes locust exit non-zero):
- any 5xx, any request without an HTTP answer, any CRUD answer other than the expected status;
- any prediction that is not a 200;
- any prediction labelled model version V whose probabilities differ from V's reference: the
  probabilities of a fixed set of texts, recorded per version (before the run for the current
  version, right after the publish for the new one). A response mixing two versions' vectorizer
  and model, or labelled with the wrong version, cannot match;
- the training started mid-run not being published before the end, or no prediction served by
  the new version afterwards.

The run ends by itself LOAD_AFTER_PUBLISH_SECONDS after the publish, or at --run-time at the
latest. Driven by tests/chaos/run_load.py, which prepares the stack and passes LOAD_* settings.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import gevent
import requests
from locust import HttpUser, between, events, task

TOKEN = os.environ.get("LOAD_TOKEN", "")
STAFF_TOKEN = os.environ.get("LOAD_STAFF_TOKEN", "")
TEXTS_FILE = os.environ.get("LOAD_TEXTS_FILE")
TEXTS: list[str] = json.loads(Path(TEXTS_FILE).read_text(encoding="utf-8")) if TEXTS_FILE else []
TRAIN_AFTER_SECONDS = float(os.environ.get("LOAD_TRAIN_AFTER_SECONDS", "30"))
# The run ends this long after the publish (or at --run-time, whichever comes first).
AFTER_PUBLISH_SECONDS = float(os.environ.get("LOAD_AFTER_PUBLISH_SECONDS", "60"))
REPORT = os.environ.get("LOAD_REPORT")
TOLERANCE = 1e-9
BATCH = 4
LABELS = ("libs", "libdevel", "python", "doc", "perl", "utils")


class Verdict:
    """Everything the run promises, checked as it goes and once more at the end."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.references: dict[str, list[dict[str, float]]] = {}
        self.predictions: list[tuple[float, str, int, dict[str, float]]] = []
        self.training: dict = {}

    def violation(self, message: str) -> None:
        if len(self.violations) < 1000:
            self.violations.append(message)

    def record_reference(self, base_url: str) -> str:
        response = requests.post(
            f"{base_url}/api/predict/",
            json={"texts": TEXTS},
            headers={"Authorization": f"Token {STAFF_TOKEN}"},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        version = body["model_version"]
        self.references.setdefault(version, [p["probabilities"] for p in body["predictions"]])
        return version

    def check_predictions(self) -> dict[str, int]:
        per_version: dict[str, int] = {}
        for _, version, index, probabilities in self.predictions:
            per_version[version] = per_version.get(version, 0) + 1
            reference = self.references.get(version)
            if reference is None:
                self.violation(f"prediction labelled {version}, a version with no reference")
                continue
            expected = reference[index]
            if expected.keys() != probabilities.keys() or not all(
                math.isclose(expected[k], probabilities[k], rel_tol=0, abs_tol=TOLERANCE)
                for k in expected
            ):
                self.violation(f"prediction labelled {version} differs from its reference")
        return per_version


verdict = Verdict()


def train_in_the_middle(environment) -> None:
    """Start a training after TRAIN_AFTER_SECONDS, record the new version's reference, and end
    the run AFTER_PUBLISH_SECONDS later."""
    base_url = environment.host
    publish_and_record(base_url)
    gevent.sleep(AFTER_PUBLISH_SECONDS)
    environment.runner.quit()


def publish_and_record(base_url: str) -> None:
    gevent.sleep(TRAIN_AFTER_SECONDS)
    staff = {"Authorization": f"Token {STAFF_TOKEN}"}
    started = time.monotonic()
    response = requests.post(f"{base_url}/api/train/", headers=staff, timeout=60)
    verdict.training["post_status"] = response.status_code
    if response.status_code != 202:
        verdict.violation(f"POST /api/train/ mid-run: {response.status_code} {response.text[:200]}")
        return
    job_id = response.json()["job_id"]
    verdict.training["job_id"] = job_id
    verdict.training["started_at_run_seconds"] = round(started - RUN_STARTED, 1)
    while True:
        gevent.sleep(2)
        job = requests.get(f"{base_url}/api/train/{job_id}/", headers=staff, timeout=60).json()
        if job["status"] in ("succeeded", "failed"):
            break
    verdict.training["status"] = job["status"]
    verdict.training["model_version"] = job["model_version"]
    verdict.training["published_at_run_seconds"] = round(time.monotonic() - RUN_STARTED, 1)
    verdict.training["training_seconds"] = round(time.monotonic() - started, 1)
    if job["status"] != "succeeded":
        verdict.violation(f"the mid-run training failed: {job['error']}")
        return
    verdict.training["published_monotonic"] = time.monotonic()
    for _ in range(10):
        if verdict.record_reference(base_url) == job["model_version"]:
            return
        gevent.sleep(0.1)
    verdict.violation(f"{job['model_version']} was published but never served")


RUN_STARTED = time.monotonic()


@events.test_start.add_listener
def on_test_start(environment, **_kwargs):
    global RUN_STARTED
    RUN_STARTED = time.monotonic()
    if not (TOKEN and STAFF_TOKEN and TEXTS):
        raise RuntimeError("run through tests/chaos/run_load.py (LOAD_* settings missing)")
    verdict.training["version_before"] = verdict.record_reference(environment.host)
    gevent.spawn(train_in_the_middle, environment)


@events.request.add_listener
def on_request(request_type, name, response, exception, **_kwargs):
    status = getattr(response, "status_code", None)
    if status is None or status == 0:
        verdict.violation(f"{request_type} {name}: no answer ({exception!r})")
    elif status >= 500:
        verdict.violation(f"{request_type} {name}: {status}")


@events.quitting.add_listener
def on_quitting(environment, **_kwargs):
    per_version = verdict.check_predictions()
    published = verdict.training.get("published_monotonic")
    if published is None:
        verdict.violation("no training was published during the run")
    else:
        after = [p for p in verdict.predictions if p[0] > published]
        new_version = verdict.training["model_version"]
        if not any(p[1] == new_version for p in after):
            verdict.violation("no prediction was served by the newly published version")
    total = environment.stats.total
    report = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "requests_per_second": round(total.total_rps, 1),
        "median_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "max_ms": round(total.max_response_time or 0),
        "by_endpoint": {
            name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p95_ms": entry.get_response_time_percentile(0.95),
            }
            for (name, _method), entry in environment.stats.entries.items()
        },
        "predictions_checked_per_version": per_version,
        "training": {k: v for k, v in verdict.training.items() if k != "published_monotonic"},
        "violations": len(verdict.violations),
        "first_violations": verdict.violations[:20],
    }
    print("LOAD REPORT " + json.dumps(report, sort_keys=True))
    if REPORT:
        with open(REPORT, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, sort_keys=True)
    if verdict.violations:
        environment.process_exit_code = 1


class Consumer(HttpUser):
    """An API consumer: mostly predictions, some CRUD."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {TOKEN}"

    def expect(self, response, status: int, what: str):
        if response.status_code != status:
            message = f"{what}: {response.status_code} (expected {status}) {response.text[:120]}"
            response.failure(message)
            verdict.violation(message)
            return None
        response.success()
        return response.json() if response.content else {}

    def predict(self, indexes: list[int]) -> None:
        payload = (
            {"text": TEXTS[indexes[0]]}
            if len(indexes) == 1
            else {"texts": [TEXTS[i] for i in indexes]}
        )
        name = "predict" if len(indexes) == 1 else "predict batch"
        with self.client.post(
            "/api/predict/", json=payload, name=name, catch_response=True
        ) as response:
            body = self.expect(response, 200, name)
        if body is None:
            return
        now = time.monotonic()
        if len(indexes) == 1:
            verdict.predictions.append(
                (now, body["model_version"], indexes[0], body["probabilities"])
            )
        else:
            for index, prediction in zip(indexes, body["predictions"], strict=True):
                verdict.predictions.append(
                    (now, body["model_version"], index, prediction["probabilities"])
                )

    @task(6)
    def predict_one(self) -> None:
        self.predict([random.randrange(len(TEXTS))])

    @task(1)
    def predict_batch(self) -> None:
        self.predict(random.sample(range(len(TEXTS)), BATCH))

    @task(2)
    def crud_cycle(self) -> None:
        text = random.choice(TEXTS)
        with self.client.post(
            "/api/data/",
            json={"text": text, "label": "load"},
            name="data create",
            catch_response=True,
        ) as response:
            row = self.expect(response, 201, "data create")
        if row is None:
            return
        path = f"/api/data/{row['id']}/"
        with self.client.get(path, name="data read", catch_response=True) as response:
            self.expect(response, 200, "data read")
        with self.client.patch(
            path, json={"label": "load-updated"}, name="data update", catch_response=True
        ) as response:
            self.expect(response, 200, "data update")
        with self.client.delete(path, name="data delete", catch_response=True) as response:
            self.expect(response, 204, "data delete")

    @task(1)
    def list_page(self) -> None:
        with self.client.get(
            "/api/data/",
            params={"page_size": 20, "label": random.choice(LABELS)},
            name="data list",
            catch_response=True,
        ) as response:
            self.expect(response, 200, "data list")
