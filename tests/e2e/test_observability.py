"""Prometheus, its alert rules, the Grafana dashboards' queries, Flower and the log trail."""

import json
import time

import pytest
import requests

from harness import REPO_ROOT, Api

DASHBOARDS = sorted((REPO_ROOT / "monitoring" / "grafana" / "dashboards").glob("*.json"))
SCRAPE_JOBS = {"prometheus", "web", "algorithm", "algorithm_celery", "flower"}


def panel_queries() -> list[tuple[str, str, str]]:
    queries = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries.append((path.stem, panel["title"], target["expr"]))
    return queries


class Prometheus:
    def __init__(self, base_url: str, auth: tuple[str, str]) -> None:
        self.url = base_url + "/prometheus/api/v1"
        self.auth = auth

    def query(self, expr: str) -> list[dict]:
        response = requests.get(
            self.url + "/query", params={"query": expr}, auth=self.auth, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]["result"]

    def wait_for(self, expr: str, *, timeout: float = 90) -> list[dict]:
        deadline = time.monotonic() + timeout
        while (result := self.query(expr)) == [] and time.monotonic() < deadline:
            time.sleep(2)
        return result


@pytest.fixture(scope="module")
def prometheus(stack, ops_auth) -> Prometheus:
    return Prometheus(stack.base_url, ops_auth)


@pytest.fixture(scope="module")
def api_module(stack, token) -> Api:
    return Api(stack.base_url, token)


@pytest.fixture(scope="module")
def traffic(api_module, trained_job, loaded_corpus, prometheus):
    """A train (the fixture), a few predictions and one feedback, then time for Prometheus to
    scrape twice."""
    for row in loaded_corpus.held_out[:20]:
        assert api_module.post("/api/predict/", json={"text": row["text"]}).status_code == 200
    api_module.post("/api/predict/", json={"texts": [r["text"] for r in loaded_corpus.held_out]})
    api_module.get("/api/data/does-not-exist/")
    # One piece of feedback, so the Model dashboard's live-accuracy panel has a series.
    row = loaded_corpus.held_out[0]
    predicted = api_module.post("/api/predict/", json={"text": row["text"]}).json()
    feedback = {
        "text": row["text"],
        "model_version": predicted["model_version"],
        "predicted_label": predicted["label"],
        "true_label": predicted["label"],
    }
    assert api_module.post("/api/feedback/", json=feedback).status_code == 201
    prometheus.wait_for("ml_predictions_total")
    time.sleep(25)


def test_prometheus_needs_the_ops_credentials(stack):
    assert requests.get(stack.base_url + "/prometheus/-/ready", timeout=10).status_code == 401
    wrong = requests.get(stack.base_url + "/prometheus/-/ready", auth=("ops", "no"), timeout=10)
    assert wrong.status_code == 401


def test_every_target_is_scraped_and_up(prometheus, traffic):
    up = {series["metric"]["job"]: series["value"][1] for series in prometheus.query("up")}
    assert set(up) == SCRAPE_JOBS
    assert all(value == "1" for value in up.values()), up


def test_alert_rules_are_loaded(prometheus, stack, ops_auth):
    response = requests.get(prometheus.url + "/rules", auth=ops_auth, timeout=10)
    names = {rule["name"] for group in response.json()["data"]["groups"] for rule in group["rules"]}
    assert names == {
        "TargetDown",
        "High5xxRate",
        "NoCeleryWorker",
        "TrainingFailed",
        "ModelTooOld",
        "PredictLatencyHigh",
        # Drift (test_drift.py): recording rules, then their alerts.
        "model_version:ml_predictions:increase1h",
        "model_version:ml_drift_texts:increase1h",
        "model_version:ml_drift_oov_share:mean1h",
        "model_version:ml_drift_confidence:mean1h",
        "model_version:ml_drift_confidence:mean1d",
        "model_version_label:ml_training_label_share:max",
        "model_version_label:ml_predicted_label_share:1h",
        "model_version:ml_label_psi:1h",
        "InputOutOfVocabulary",
        "PredictedLabelMixDrift",
        "PredictConfidenceDropped",
    }
    unhealthy = [
        (rule["name"], rule.get("lastError"))
        for group in response.json()["data"]["groups"]
        for rule in group["rules"]
        if rule.get("health") == "err"
    ]
    assert not unhealthy


@pytest.mark.parametrize(
    "promtool_args",
    [
        ("check", "config", "/etc/prometheus/prometheus.yml"),
        ("check", "rules", "/etc/prometheus/alerts.yml"),
    ],
)
def test_promtool_accepts_the_config_and_rules(stack, promtool_args):
    result = stack.exec("prometheus", "promtool", *promtool_args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_there_are_api_model_and_celery_dashboards():
    assert {path.stem for path in DASHBOARDS} >= {"api", "model", "celery"}


@pytest.mark.parametrize(("dashboard", "panel", "expr"), panel_queries())
def test_every_dashboard_panel_has_data(prometheus, traffic, dashboard, panel, expr):
    assert prometheus.wait_for(expr, timeout=30), f"{dashboard} / {panel}: no data for {expr}"


def test_flower_is_behind_basic_auth_and_sees_the_worker(stack, ops_auth):
    assert requests.get(stack.base_url + "/flower/", timeout=10).status_code == 401
    # refresh=1 makes Flower broadcast an inspect instead of answering from its cache.
    deadline = time.monotonic() + 30
    while True:
        workers = requests.get(
            stack.base_url + "/flower/api/workers?refresh=1", auth=ops_auth, timeout=15
        )
        assert workers.status_code == 200, workers.text
        if workers.json() or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert any(name.startswith("celery@") for name in workers.json()), workers.text


def test_flower_knows_the_training_by_its_job_id(stack, ops_auth, trained_job):
    response = requests.get(
        stack.base_url + f"/flower/api/task/info/{trained_job['job_id']}", auth=ops_auth, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "mlservice.train_model"
    assert response.json()["state"] == "SUCCESS"


def test_flower_received_the_trainings_progress_events(prometheus, trained_job):
    # While the task ran, these events made Flower show it as PROGRESS with its phase as result.
    seen = prometheus.wait_for(
        'flower_events_total{type="task-progress",task="mlservice.train_model"} > 0'
    )
    assert seen, "Flower counted no task-progress event"


def test_one_grep_follows_a_training_request_through_every_service(
    stack, trained_job, train_request_id
):
    for service in ("nginx", "web", "algorithm", "algorithm_celery"):
        assert stack.lines_with(service, train_request_id), f"{service} never logged it"
    worker_lines = [
        json.loads(line.split("|", 1)[1].strip())
        for line in stack.logs("algorithm_celery").splitlines()
        if train_request_id in line and "|" in line
    ]
    assert any(entry.get("job_id") == trained_job["job_id"] for entry in worker_lines)
    assert any(entry.get("model_version") == trained_job["model_version"] for entry in worker_lines)
    for entry in worker_lines:
        assert {"timestamp", "level", "service", "event", "request_id"} <= set(entry)
