"""The API under real gunicorn with gunicorn.conf.py: several worker processes, recycled by
max_requests, still report one consistent set of metrics, and every log line is JSON."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families
from textclf_ops.logs import ACCESS_FIELDS

from mlservice.store import artifacts
from tests.conftest import ALGORITHM_DIR
from tests.support import TEST_SERVICE_TOKEN, TEST_SIGNING_KEY, publish_trained, wait_for
from tests.support.worker_process import free_port

REQUESTS = 30


@contextlib.contextmanager
def run_gunicorn(settings, tmp_path, **extra_env: str):
    """gunicorn.conf.py serving the app over `settings`; yields (base URL, log, metrics dir)."""
    port = free_port()
    prometheus_dir = tmp_path / "prometheus"
    prometheus_dir.mkdir()
    (prometheus_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "CELERY_BROKER_URL": settings.celery_broker_url.get_secret_value(),
        "MODELS_DIR": str(settings.models_dir),
        "ML_SERVICE_TOKEN": TEST_SERVICE_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(prometheus_dir),
        "LOG_FORMAT": "json",
        **extra_env,
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "mlservice:create_app()",
            ],
            cwd=ALGORITHM_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{base_url}/health") or process.poll() is not None, timeout=30)
        assert process.poll() is None, log_path.read_text()
        yield base_url, log_path, prometheus_dir
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def gunicorn(settings, tmp_path):
    with run_gunicorn(
        settings,
        tmp_path,
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        # Recycle each worker several times during the test.
        GUNICORN_MAX_REQUESTS="8",
        GUNICORN_MAX_REQUESTS_JITTER="0",
    ) as running:
        yield running


def _get(url: str, **headers: str) -> bytes | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.read()
    except (urllib.error.URLError, OSError):
        return None


def test_metrics_add_up_over_workers_and_restarts(gunicorn):
    base_url, log_path, prometheus_dir = gunicorn
    assert not (prometheus_dir / "counter_999999.db").exists()  # wiped at start
    answered, attempts = [], 0
    for n in range(REQUESTS):
        # A connection a recycled gthread worker had accepted but not read yet is reset
        # unanswered; the client retries, as nginx would.
        for attempt in range(5):
            attempts += 1
            if _get(f"{base_url}/health/live", **{"X-Request-ID": f"rid-{n}-{attempt}"}):
                answered.append(f"rid-{n}-{attempt}")
                break
    assert len(answered) == REQUESTS

    # Retried like the requests above: the scrape too may reach a worker being recycled.
    exposition = wait_for(lambda: _get(f"{base_url}/metrics"), timeout=10).decode()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    live = (("method", "GET"), ("route", "/health/live"), ("service", "algorithm"))
    # Every answered request is counted, whichever worker (now gone) served it. A reset one may
    # have been handled and counted before its worker exited, hence the upper bound.
    served = samples[("http_requests_total", (*live, ("status", "200")))]
    assert REQUESTS <= served <= attempts
    assert samples[("http_request_duration_seconds_count", live)] == served
    # Live gauges of recycled workers are dropped, the survivors still report.
    assert samples[("ml_model_max_age_seconds", ())] == 604800

    # Lines come in batches, at most LOG_FLUSH_SECONDS (1 s) late; recycled workers write
    # theirs as they exit.
    def every_answer_logged():
        records = [json.loads(line) for line in log_path.read_text().splitlines()]
        logged = {r["request_id"] for r in records if r["logger"] == "gunicorn.access"}
        return records if logged >= set(answered) else None

    records = wait_for(every_answer_logged, timeout=10)
    assert sum(r["event"].startswith("Booting worker") for r in records) > 2  # recycled
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert all(r["service"] == "algorithm" and r["timestamp"].endswith("Z") for r in records)
    first = next(r for r in access if r["request_id"] == answered[0])
    assert (first["method"], first["path"], first["status"]) == ("GET", "/health/live", 200)
    # The one access-line shape, as in web's log.
    assert set(ACCESS_FIELDS) <= first.keys()
    assert first["event"] == "GET /health/live 200"
    assert isinstance(first["duration_ms"], float)
    assert isinstance(first["response_bytes"], int)


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Service-Token": TEST_SERVICE_TOKEN},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # a fresh connection each
        return json.loads(response.read())


def _served_by_worker(prometheus_dir) -> dict[str, str | None]:
    """{pid: the version that worker serves}, from each worker's own ml_model_info file."""
    served = {}
    for path in prometheus_dir.glob("gauge_livemax_*.db"):
        values = MmapedDict(str(path), read_mode=True)
        try:
            versions = [
                json.loads(key)[2]["version"]
                for key, value, *_ in values.read_all_values()
                if json.loads(key)[0] == "ml_model_info" and value == 1
            ]
        finally:
            values.close()
        served[path.stem.rsplit("_", 1)[1]] = versions[0] if versions else None
    return served


def test_every_worker_serves_the_last_good_version_when_current_is_refused(
    settings, tmp_path, trained_model
):
    """make chaos found ML API workers disagreeing once `current` was tampered: each kept
    whatever it had last loaded. Three workers, one of them the only one to see the last good
    version go live; after the tampering every answer, from every worker, is that version."""
    models_dir = settings.models_dir
    victim = publish_trained(models_dir, trained_model, job_id="victim")
    older = publish_trained(models_dir, trained_model, job_id="older")
    good = publish_trained(models_dir, trained_model, job_id="good")
    artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    workers = 3
    with run_gunicorn(
        settings,
        tmp_path,
        MODEL_SIGNING_KEY=TEST_SIGNING_KEY,
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS="1",
    ) as (base_url, _, prometheus_dir):
        predict = f"{base_url}/predict"

        def every_worker_serves(version):
            _post_json(predict, {"text": "a python library"})
            served = _served_by_worker(prometheus_dir)
            return len(served) == workers and set(served.values()) == {version}

        wait_for(lambda: every_worker_serves(older), timeout=60, interval=0)
        artifacts.activate(models_dir, good, signing_key=TEST_SIGNING_KEY)
        assert _post_json(predict, {"text": "one worker sees it"})["model_version"] == good
        assert list(_served_by_worker(prometheus_dir).values()).count(older) == workers - 1

        (models_dir / "versions" / victim / "model.pickle").write_bytes(b"tampered")
        link = models_dir / "tmp" / "by-hand"
        link.symlink_to(f"versions/{victim}")
        os.replace(link, models_dir / "current")  # not an activation: last_good stays put

        answers = [_post_json(predict, {"text": "after"})["model_version"] for _ in range(30)]
        assert set(answers) == {good}
        wait_for(lambda: every_worker_serves(good), timeout=60, interval=0)
