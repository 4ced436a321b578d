import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from textclf_ops.secrets import DEVELOPMENT_SECRETS

from config import env

WEB_DIR = Path(__file__).resolve().parents[2]
# What the production overlay must provide; everything else has a production default.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k7#Qv9$zL2@pW5^mR8&nT1*bY4!cX6%hJ3(dF0)gS-eA+uV=iO_lK[oP]qM{",
    "DJANGO_ALLOWED_HOSTS": "textclf.example.com",
    "DATABASE_URL": "postgres://textclf_web:Jx0bq2Vd8kWm4nRt6yPz1cLf3hGs5aEu@db:5432/textclf",
    "ADMIN_PASSWORD": "a-strong-password",
    "ML_SERVICE_TOKEN": "Qm7wT2xK9pLr4vNz8bHc3jFd6sYg1eUa",
    "CACHE_URL": "redis://:Rb5nK2wQ8xLp3Vt7Zc9Hm4Jd6Sf1Ga0E@redis:6379/1",
}
# What a missing one is called in the refusal: the cache URL's default has no password.
REQUIRED_AS = {"CACHE_URL": "CACHE_URL's password"}
# Settings the host's environment (e.g. the Makefile's DATABASE_URL) must not leak into.
OWN_PREFIXES = ("DJANGO_", "ADMIN_", "DATABASE_", "ML_SERVICE_", "SENTRY_", "CACHE_")


def run_python(args: list[str], **overrides: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(OWN_PREFIXES)}
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, *args],
        cwd=WEB_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def import_settings(module: str, expression: str = "s.ALLOWED_HOSTS", **overrides: str):
    return run_python(["-c", f"import {module} as s; print({expression})"], **overrides)


def test_production_starts_with_its_required_settings():
    result = import_settings("config.settings.production", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "textclf.example.com" in result.stdout


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_fails_fast_without_a_required_setting(missing):
    environ = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = import_settings("config.settings.production", **environ)

    assert result.returncode != 0
    assert f"The {REQUIRED_AS.get(missing, missing)} environment variable is required" in (
        result.stderr
    )


def test_check_deploy_is_clean_with_production_defaults():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_defaults_are_https_only():
    expression = (
        "(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE)"
    )

    result = import_settings("config.settings.production", expression, **PRODUCTION_ENV)

    assert result.stdout.strip() == "(False, True, 31536000, True, True)"


def test_production_can_run_over_plain_http_when_told_to():
    expression = "(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"

    result = import_settings(
        "config.settings.production",
        expression,
        **PRODUCTION_ENV,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
    )

    assert result.stdout.strip() == "(False, False, False)"


def test_production_reads_secrets_from_files(tmp_path):
    files = {}
    for name in ("DJANGO_SECRET_KEY", "ADMIN_PASSWORD", "ML_SERVICE_TOKEN", "DATABASE_URL",
                 "CACHE_URL"):  # fmt: skip
        path = tmp_path / name.lower()
        path.write_text(f"{PRODUCTION_ENV[name]}\n")
        files[f"{name}_FILE"] = str(path)
    password_file = tmp_path / "db_password"
    password_file.write_text("from-a-file-Xk3n9Qw2Lp8Rt5Vz7Bm4\n")
    environ = {
        "DJANGO_ALLOWED_HOSTS": "textclf.example.com",
        **files,
        "DATABASE_PASSWORD_FILE": str(password_file),
    }
    expression = (
        "(s.SECRET_KEY == {key!r}, s.ADMIN_PASSWORD, s.ML_SERVICE_TOKEN,"
        " s.DATABASES['default']['USER'], s.DATABASES['default']['PASSWORD'],"
        " s.CACHES['default']['LOCATION'] == {cache!r})"
    ).format(key=PRODUCTION_ENV["DJANGO_SECRET_KEY"], cache=PRODUCTION_ENV["CACHE_URL"])

    result = import_settings("config.settings.production", expression, **environ)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "(True, 'a-strong-password', 'Qm7wT2xK9pLr4vNz8bHc3jFd6sYg1eUa', 'textclf_web',"
        " 'from-a-file-Xk3n9Qw2Lp8Rt5Vz7Bm4', True)"
    )


# Each weak value, the setting it is given as, and what the refusal must say.
WEAK_SECRETS = [
    pytest.param(
        "DJANGO_SECRET_KEY",
        "django-insecure-local-only-never-use-in-production",
        "DJANGO_SECRET_KEY is a development value",
        id="django-key-from-local",
    ),
    pytest.param(
        "DJANGO_SECRET_KEY",
        "Yq3vK8nW2pLx7Rt5Bz9Hc4Jf6Sd1Ga0E",
        "DJANGO_SECRET_KEY must be at least 50 characters",
        id="django-key-too-short",
    ),
    pytest.param(
        "ML_SERVICE_TOKEN",
        "dev-ml-service-token",
        "ML_SERVICE_TOKEN is a development value",
        id="service-token-from-compose",
    ),
    pytest.param(
        "ML_SERVICE_TOKEN",
        "short-but-not-published",
        "ML_SERVICE_TOKEN must be at least 32 characters",
        id="service-token-too-short",
    ),
    pytest.param(
        "DATABASE_URL",
        "postgres://textclf:textclf@db:5432/textclf",
        "DATABASE_URL's password (or DATABASE_PASSWORD) is a development value",
        id="database-password-from-compose",
    ),
    pytest.param(
        "DATABASE_URL",
        "postgres://textclf@db:5432/textclf",
        "DATABASE_URL's password (or DATABASE_PASSWORD)",
        id="database-url-without-password",
    ),
    pytest.param(
        "WEB_DATABASE_PASSWORD",
        "textclf_web",
        "WEB_DATABASE_PASSWORD is a development value",
        id="web-role-password-from-compose",
    ),
    pytest.param(
        "ADMIN_PASSWORD", "admin", "ADMIN_PASSWORD is a development value", id="admin-admin"
    ),
    pytest.param(
        "CACHE_URL",
        "redis://redis:6379/1",
        "CACHE_URL's password environment variable is required",
        id="cache-url-from-compose-without-password",
    ),
    pytest.param(
        "CACHE_URL",
        "redis://:short@redis:6379/1",
        "CACHE_URL's password must be at least 32 characters",
        id="cache-password-too-short",
    ),
]


@pytest.mark.parametrize(("name", "value", "message"), WEAK_SECRETS)
def test_production_refuses_a_weak_or_development_secret(name, value, message):
    result = import_settings("config.settings.production", **{**PRODUCTION_ENV, name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_names_every_weak_secret_at_once():
    environ = {
        **PRODUCTION_ENV,
        "ML_SERVICE_TOKEN": "dev-ml-service-token",
        "ADMIN_PASSWORD": "admin",
    }

    result = import_settings("config.settings.production", **environ)

    assert "ML_SERVICE_TOKEN is a development value" in result.stderr
    assert "ADMIN_PASSWORD is a development value" in result.stderr


def test_every_compose_default_secret_is_a_known_development_value():
    # The base compose file's `${NAME:-default}` for each secret: what a deployment that forgot
    # to set NAME would run with.
    compose = (WEB_DIR.parent / "docker-compose.yml").read_text()
    defaults = {
        value
        for name, value in re.findall(
            r"\$\{([A-Z_]*(?:PASSWORD|TOKEN|KEY))(?::-([^}]*))?\}", compose
        )
        if value
    }

    assert defaults, "no secret defaults found: the pattern no longer matches the compose file"
    assert defaults <= DEVELOPMENT_SECRETS


def test_local_settings_need_nothing():
    result = import_settings("config.settings.local", "(s.ALLOWED_HOSTS, s.ML_SERVICE_TOKEN)")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(['*'], 'dev-ml-service-token')"


def test_env_readers_parse_and_reject(monkeypatch):
    monkeypatch.setenv("T_INT", "12")
    monkeypatch.setenv("T_LIST", " a, ,b ")
    monkeypatch.setenv("T_BOOL", "yes")
    monkeypatch.setenv("T_EMPTY", "")
    monkeypatch.setenv("T_BAD", "twelve")

    assert env.env_int("T_INT", 1) == 12
    assert env.env_list("T_LIST", []) == ["a", "b"]
    assert env.env_bool("T_BOOL", False) is True
    assert env.env_bool("T_UNSET", None) is None
    assert env.env_str("T_EMPTY", "default") == "default"
    with pytest.raises(ImproperlyConfigured, match="T_BAD"):
        env.env_int("T_BAD", 1)
    with pytest.raises(ImproperlyConfigured, match="T_BAD"):
        env.env_bool("T_BAD", False)
    with pytest.raises(ImproperlyConfigured, match="T_INT"):
        env.env_int("T_INT", 1, minimum=100)


def test_env_secret_reads_the_variable_or_its_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("  from the file\n")
    monkeypatch.setenv("T_PLAIN", "plain value")
    monkeypatch.setenv("T_FILED_FILE", str(secret_file))

    assert env.env_secret("T_PLAIN") == "plain value"
    assert env.env_secret("T_FILED") == "from the file"
    assert env.env_secret("T_UNSET", "fallback") == "fallback"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param({"T_S": "value", "T_S_FILE": "/dev/null"}, "not both", id="both-set"),
        pytest.param({"T_S_FILE": "/nonexistent/secret"}, "cannot read", id="missing-file"),
        pytest.param({"T_S_FILE": "/dev/null"}, "is empty", id="empty-file"),
    ],
)
def test_env_secret_refuses_an_ambiguous_or_unreadable_source(monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        env.env_secret("T_S")


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_FORMAT", "xml"), ("LOG_FLUSH_SECONDS", "0"), ("GUNICORN_THREADS", "none")],
)
def test_a_bad_logging_or_gunicorn_value_fails_at_start_naming_it(name, value):
    """Read as gunicorn.conf.py reads them (textclf_ops.settings), so both refuse alike."""
    result = import_settings("config.settings.local", **{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}:" in result.stderr
