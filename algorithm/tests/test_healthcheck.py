import os
import threading
import time

import pytest
from werkzeug.serving import make_server

from mlservice import healthcheck


@pytest.fixture
def live_api(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_api_check_passes_against_a_live_api(live_api):
    assert healthcheck.check_api(f"{live_api}/health") is None


def test_api_check_fails_when_nothing_listens():
    assert "127.0.0.1:1" in healthcheck.check_api("http://127.0.0.1:1/health", timeout=1)


def test_api_check_fails_on_an_error_status(live_api):
    assert healthcheck.check_api(f"{live_api}/no-such-page") is not None


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
