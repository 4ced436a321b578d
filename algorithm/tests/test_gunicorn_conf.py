"""gunicorn.conf.py: the settings it hands gunicorn, from the environment or defaults."""

import gc
import logging
import runpy
from types import SimpleNamespace

import pytest

from tests.conftest import ALGORITHM_DIR

CONF = str(ALGORITHM_DIR / "gunicorn.conf.py")


def test_defaults_fit_the_two_core_host(monkeypatch):
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(CONF)
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (2, 4, 60)
    assert (conf["graceful_timeout"], conf["max_requests"], conf["max_requests_jitter"]) == (
        30,
        100_000,
        10_000,
    )
    assert conf["worker_tmp_dir"] == "/dev/shm"
    assert conf["forwarded_allow_ips"] == "*"


@pytest.mark.parametrize(
    ("variable", "setting", "value", "expected"),
    [
        ("GUNICORN_WORKERS", "workers", "3", 3),
        ("GUNICORN_THREADS", "threads", "8", 8),
        ("GUNICORN_TIMEOUT", "timeout", "90", 90),
        ("GUNICORN_GRACEFUL_TIMEOUT", "graceful_timeout", "10", 10),
        ("GUNICORN_MAX_REQUESTS", "max_requests", "50", 50),
        ("FORWARDED_ALLOW_IPS", "forwarded_allow_ips", "172.31.250.0/24", "172.31.250.0/24"),
    ],
)
def test_the_environment_overrides_them(monkeypatch, variable, setting, value, expected):
    monkeypatch.setenv(variable, value)
    assert runpy.run_path(CONF)[setting] == expected


def test_post_worker_init_exempts_what_the_worker_loaded_from_full_collections(app):
    worker = SimpleNamespace(wsgi=app, log=logging.getLogger("test"))
    gc.unfreeze()  # so that only the hook can have frozen anything
    try:
        runpy.run_path(CONF)["post_worker_init"](worker)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
