import os
import time
from dataclasses import replace

from mlservice import create_app
from mlservice.observability import healthcheck
from tests.support import serve


def test_api_check_passes_against_a_ready_api(app):
    with serve(app) as base_url:
        assert healthcheck.check_api(f"{base_url}/health/ready") is None
        assert healthcheck.check_api(f"{base_url}/health/live") is None


def test_api_check_fails_when_the_api_is_not_ready(settings):
    unready = create_app(replace(settings, celery_broker_url="redis://127.0.0.1:1/0"))
    with serve(unready) as base_url:
        assert "503" in healthcheck.check_api(f"{base_url}/health/ready")
        assert healthcheck.check_api(f"{base_url}/health/live") is None


def test_api_check_fails_when_nothing_listens():
    assert "127.0.0.1:1" in healthcheck.check_api("http://127.0.0.1:1/health", timeout=1)


def test_api_check_fails_on_an_error_status(app):
    with serve(app) as base_url:
        assert healthcheck.check_api(f"{base_url}/no-such-page") is not None


def test_worker_check_passes_with_a_fresh_heartbeat(tmp_path):
    beat = tmp_path / "heartbeat"
    beat.touch()
    assert healthcheck.check_worker(beat) is None


def test_worker_check_fails_with_a_stale_heartbeat(tmp_path):
    beat = tmp_path / "heartbeat"
    beat.touch()
    stale = time.time() - 61
    os.utime(beat, (stale, stale))
    assert "old" in healthcheck.check_worker(beat, max_age=60)


def test_worker_check_fails_without_a_heartbeat(tmp_path):
    assert "no heartbeat file" in healthcheck.check_worker(tmp_path / "missing")


def test_main_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKER_HEARTBEAT_FILE", str(tmp_path / "beat"))
    assert healthcheck.main(["worker"]) == 1
    assert "unhealthy" in capsys.readouterr().err
    (tmp_path / "beat").touch()
    assert healthcheck.main(["worker"]) == 0
    assert healthcheck.main(["bogus"]) == 2
