"""gunicorn.conf.py: its hooks, and a real two-worker gunicorn serving aggregated metrics and
JSON logs."""

import gc
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from textclf_ops import gunicorn_conf
from textclf_ops.logs import ACCESS_FIELDS
from textclf_ops.secrets import SettingError

WEB_DIR = Path(__file__).resolve().parents[2]
GUNICORN_CONF = WEB_DIR / "gunicorn.conf.py"


def write_stale_counter(directory: Path) -> None:
    """A previous run's sample, written by a real multiprocess-mode client."""
    script = (
        "from prometheus_client import Counter;"
        "Counter('http_requests_total', '', ['service', 'method', 'route', 'status'])"
        ".labels('web', 'GET', '/stale', '200').inc(1000)"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        check=True,
    )
    assert list(directory.glob("counter_*.db"))


def test_the_shared_settings_and_hooks_are_in_force():
    conf = runpy.run_path(str(GUNICORN_CONF))

    assert (conf["workers"], conf["threads"], conf["timeout"]) == (2, 4, 60)
    assert conf["on_starting"] is gunicorn_conf.on_starting
    assert conf["child_exit"] is gunicorn_conf.child_exit
    assert conf["logconfig_dict"]["formatters"]["service"]["service"] == "web"


def test_post_worker_init_loads_the_urlconf_then_freezes():
    gc.unfreeze()  # so that only the hook can have frozen anything
    try:
        runpy.run_path(str(GUNICORN_CONF))["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_bad_log_format_stops_gunicorn_naming_it(monkeypatch):
    """It used to fall back to JSON silently."""
    monkeypatch.setenv("LOG_FORMAT", "xml")

    with pytest.raises(SettingError, match="LOG_FORMAT"):
        runpy.run_path(str(GUNICORN_CONF))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1 only)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, response.read().decode()


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with two workers, its multiprocess dir holding a stale sample from before."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    write_stale_counter(metrics_dir)
    port = free_port()
    bind = f"127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_WORKERS": "2",
        "LOG_FORMAT": "json",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", bind, "config.wsgi"],
            cwd=WEB_DIR,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base_url}/api/health/live")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield SimpleNamespace(url=base_url, log_path=log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def live_requests_counted(base_url: str) -> float:
    status, body = get(f"{base_url}/metrics")
    assert status == 200
    samples = [line for line in body.splitlines() if line.startswith("http_requests_total{")]
    assert not [line for line in samples if "/stale" in line], "the stale sample was not wiped"
    live = [line for line in samples if 'route="/api/health/live"' in line]
    # One series for the route, whichever worker answered each request.
    assert len(live) == 1
    return float(live[0].rsplit(" ", 1)[1])


def test_gunicorn_aggregates_every_workers_metrics_from_a_wiped_directory(gunicorn):
    before = live_requests_counted(gunicorn.url)

    for _ in range(20):
        get(f"{gunicorn.url}/api/health/live")

    assert live_requests_counted(gunicorn.url) == before + 20


def test_gunicorn_logs_json_lines_with_the_request_id(gunicorn):
    get(f"{gunicorn.url}/api/health/live", **{"X-Request-ID": "rid-gunicorn"})

    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in gunicorn.log_path.read_text().splitlines()]
        access = [line for line in lines if line.get("request_id") == "rid-gunicorn"]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert access, lines
    assert access[0]["logger"] == "gunicorn.access"
    assert access[0]["event"] == "GET /api/health/live 200"
    assert access[0]["service"] == "web"
    # The one access-line shape, as in the ML service's log.
    assert set(ACCESS_FIELDS) <= access[0].keys()
    assert isinstance(access[0]["duration_ms"], float)
    assert isinstance(access[0]["response_bytes"], int)
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    # Python warnings too (e.g. whitenoise's, on a checkout without collected static files).
    assert all(line["service"] == "web" for line in lines)
