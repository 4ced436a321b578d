import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

WEB_DIR = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "textclf.example.com",
    "ADMIN_PASSWORD": "a-strong-password",
}


def import_settings(module: str, **overrides: str) -> subprocess.CompletedProcess:
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "ADMIN_"))
    }
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import {module} as s; print(s.ALLOWED_HOSTS)"],
        cwd=WEB_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_starts_with_its_required_settings():
    result = import_settings("config.settings.production", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "textclf.example.com" in result.stdout


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_fails_fast_without_a_required_setting(missing):
    environ = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = import_settings("config.settings.production", **environ)

    assert result.returncode != 0
    assert f"The {missing} environment variable is required" in result.stderr


def test_local_settings_need_nothing():
    result = import_settings("config.settings.local")

    assert result.returncode == 0, result.stderr
    assert "['*']" in result.stdout


def test_env_readers_parse_and_reject(monkeypatch):
    monkeypatch.setenv("T_INT", "12")
    monkeypatch.setenv("T_LIST", " a, ,b ")
    monkeypatch.setenv("T_BOOL", "yes")
    monkeypatch.setenv("T_EMPTY", "")
    monkeypatch.setenv("T_BAD", "twelve")

    assert env.env_int("T_INT", 1) == 12
    assert env.env_list("T_LIST", []) == ["a", "b"]
    assert env.env_bool("T_BOOL", False) is True
    assert env.env_str("T_EMPTY", "default") == "default"
    with pytest.raises(ImproperlyConfigured, match="T_BAD"):
        env.env_int("T_BAD", 1)
    with pytest.raises(ImproperlyConfigured, match="T_BAD"):
        env.env_bool("T_BAD", False)
    with pytest.raises(ImproperlyConfigured, match="T_INT"):
        env.env_int("T_INT", 1, minimum=100)
