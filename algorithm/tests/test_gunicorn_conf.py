"""gunicorn.conf.py: the shared settings and hooks (tested in ops/tests), the ML API's warm-up."""

import gc
import logging
import runpy
from types import SimpleNamespace

import pytest
from textclf_ops import gunicorn_conf

from mlservice.config import ConfigError
from tests.conftest import ALGORITHM_DIR

CONF = str(ALGORITHM_DIR / "gunicorn.conf.py")


def test_the_shared_settings_and_hooks_are_in_force():
    conf = runpy.run_path(CONF)

    assert (conf["workers"], conf["threads"], conf["timeout"]) == (2, 4, 60)
    assert conf["on_starting"] is gunicorn_conf.on_starting
    assert conf["child_exit"] is gunicorn_conf.child_exit
    assert conf["logconfig_dict"]["formatters"]["service"]["service"] == "algorithm"


def test_a_bad_setting_stops_the_master_naming_it(monkeypatch):
    monkeypatch.setenv("TRAIN_MAX_LABELS", "1")

    with pytest.raises(ConfigError, match="TRAIN_MAX_LABELS"):
        runpy.run_path(CONF)


def test_post_worker_init_loads_the_model_then_freezes(app):
    worker = SimpleNamespace(wsgi=app, log=logging.getLogger("test"))
    gc.unfreeze()  # so that only the hook can have frozen anything
    try:
        runpy.run_path(CONF)["post_worker_init"](worker)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
