"""The gunicorn settings and hooks both services' gunicorn.conf.py take."""

import gc
import logging
import subprocess
import sys
from types import SimpleNamespace

import pytest

from textclf_ops import gunicorn_conf
from textclf_ops.secrets import SettingError


def test_defaults_fit_the_two_core_host():
    conf = gunicorn_conf.settings(service="svc", environ={})

    assert (conf["workers"], conf["threads"], conf["timeout"]) == (2, 4, 60)
    assert (conf["graceful_timeout"], conf["max_requests"], conf["max_requests_jitter"]) == (
        30,
        100_000,
        10_000,
    )
    assert conf["worker_tmp_dir"] == "/dev/shm"  # noqa: S108
    assert conf["forwarded_allow_ips"] == "*"
    assert conf["logger_class"] == "textclf_ops.logs.GunicornLogger"
    assert conf["logconfig_dict"]["formatters"]["service"]["service"] == "svc"


@pytest.mark.parametrize(
    ("variable", "setting", "value", "expected"),
    [
        ("GUNICORN_WORKERS", "workers", "3", 3),
        ("GUNICORN_THREADS", "threads", "8", 8),
        ("GUNICORN_TIMEOUT", "timeout", "90", 90),
        ("GUNICORN_GRACEFUL_TIMEOUT", "graceful_timeout", "10", 10),
        ("GUNICORN_MAX_REQUESTS", "max_requests", "50", 50),
        ("GUNICORN_MAX_REQUESTS_JITTER", "max_requests_jitter", "0", 0),
        ("FORWARDED_ALLOW_IPS", "forwarded_allow_ips", "172.31.250.0/24", "172.31.250.0/24"),
        ("LOG_LEVEL", "loglevel", "WARNING", "warning"),
    ],
)
def test_the_environment_overrides_them(variable, setting, value, expected):
    assert gunicorn_conf.settings(service="svc", environ={variable: value})[setting] == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GUNICORN_WORKERS", "0"), ("GUNICORN_THREADS", "many"), ("LOG_FORMAT", "xml")],
)
def test_a_bad_value_stops_the_master_naming_it(variable, value):
    with pytest.raises(SettingError, match=variable):
        gunicorn_conf.settings(service="svc", environ={variable: value})


def write_stale_counter(directory) -> None:
    """A previous run's sample, written by a real multiprocess-mode client."""
    script = (
        "from prometheus_client import Counter;"
        "Counter('http_requests_total', '', ['route']).labels('/stale').inc(1000)"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory)},
        check=True,
    )
    assert list(directory.glob("counter_*.db"))


def test_on_starting_empties_the_metrics_directory_but_keeps_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    write_stale_counter(tmp_path)

    gunicorn_conf.on_starting(SimpleNamespace())

    assert tmp_path.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_child_exit_drops_the_dead_workers_live_gauges(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_livesum_4343.db", "counter_4242.db"):
        (tmp_path / name).write_bytes(b"")

    gunicorn_conf.child_exit(SimpleNamespace(), SimpleNamespace(pid=4242))

    # Counters of the dead worker stay: they are still part of the totals.
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4343.db",
    ]


def test_the_hooks_do_nothing_without_a_metrics_directory(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    gunicorn_conf.on_starting(SimpleNamespace())
    gunicorn_conf.child_exit(SimpleNamespace(), SimpleNamespace(pid=4242))


@pytest.fixture
def unfrozen():
    gc.unfreeze()  # so that only the hook can have frozen anything
    yield
    gc.unfreeze()


def test_post_worker_init_warms_up_then_freezes(unfrozen):
    warmed = []
    worker = SimpleNamespace(log=logging.getLogger("test"))

    gunicorn_conf.post_worker_init_with(warmed.append)(worker)

    assert warmed == [worker]
    assert gc.get_freeze_count() > 0


def test_a_failed_warm_up_never_keeps_a_worker_from_booting(unfrozen, caplog):
    def fail(worker):
        raise RuntimeError("no model")

    gunicorn_conf.post_worker_init_with(fail)(SimpleNamespace(log=logging.getLogger("test")))

    assert gc.get_freeze_count() > 0
    assert "Warm-up failed" in caplog.text
