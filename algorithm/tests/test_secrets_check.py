import re
from pathlib import Path

import pytest
from pydantic import SecretStr
from textclf_ops.secrets import DEVELOPMENT_SECRETS

from mlservice.config import Settings
from mlservice.secrets_check import main

REPO_ROOT = Path(__file__).resolve().parents[2]
STRONG = "Hk4nW8qZ2xLp6Rt0Vb3Mc7Jf5Sd9Ga1E"


def test_fit_secrets_pass(capsys):
    assert main(["A", "B"], {"A": STRONG, "B": STRONG + "x"}) == 0
    assert "2 secrets fit for production" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "The OPS_PASSWORD environment variable is required in production"),
        ("ops", "OPS_PASSWORD is a development value"),
        ("a-31-character-password-xxxxxxx", "OPS_PASSWORD must be at least 32 characters"),
    ],
)
def test_unfit_secrets_fail_naming_the_variable(capsys, value, message):
    assert main(["OPS_PASSWORD"], {"OPS_PASSWORD": value}) == 1
    assert message in capsys.readouterr().err


def test_reads_a_secret_file(tmp_path, capsys):
    (tmp_path / "grafana").write_text("admin\n")

    assert (
        main(["GRAFANA_ADMIN_PASSWORD"], {"GRAFANA_ADMIN_PASSWORD_FILE": str(tmp_path / "grafana")})
        == 1
    )
    assert "GRAFANA_ADMIN_PASSWORD is a development value" in capsys.readouterr().err


def test_every_development_default_is_listed():
    # The base compose file's `${NAME:-default}` for each secret, and Settings' own secret
    # defaults: what a deployment that forgot to set one would run with.
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    pattern = r"\$\{[A-Z_]*(?:PASSWORD|TOKEN|KEY)(?::-([^}]*))?\}"
    compose_defaults = {value for value in re.findall(pattern, compose) if value}
    defaults = Settings()
    settings_defaults = {
        getattr(defaults, name).get_secret_value()
        for name, field in Settings.model_fields.items()
        # URLs: production judges the password in them, not the whole URL.
        if field.annotation is SecretStr
        and name not in ("database_url", "celery_broker_url", "cache_url", "sentry_dsn")
    }

    assert compose_defaults
    assert compose_defaults | settings_defaults <= DEVELOPMENT_SECRETS


def test_a_secret_and_its_file_together_are_refused(tmp_path, capsys):
    (tmp_path / "redis").write_text("Hk4nW8qZ2xLp6Rt0Vb3Mc7Jf5Sd9Ga1E-redis\n")

    environ = {"REDIS_PASSWORD": STRONG, "REDIS_PASSWORD_FILE": str(tmp_path / "redis")}

    assert main(["REDIS_PASSWORD"], environ) == 1
    assert "Set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both" in capsys.readouterr().err
