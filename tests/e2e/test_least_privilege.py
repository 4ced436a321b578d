"""Least privilege behind the edge: web's database role, Redis's password, Flower's environment."""

import json

import pytest

from harness.probes import REDIS_PASSWORD_PROBE

# Runs inside web with web's own settings; every statement is rolled back even if it succeeds.
_SCHEMA_PROBE = """
import json
from django.db import connection, transaction

class Rollback(Exception):
    pass

out = {}
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    out["user"], out["superuser"] = cursor.fetchone()
for statement in (
    "CREATE TABLE probe (id int)",
    "DROP TABLE data",
    "ALTER TABLE data ADD COLUMN probe int",
    "TRUNCATE data",
    "DROP TABLE training_job",
    "SELECT count(*) FROM training_job",
):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
            raise Rollback
    except Rollback:
        out[statement] = "allowed"
    except Exception as exc:
        out[statement] = getattr(exc.__cause__, "sqlstate", type(exc).__name__)
print(json.dumps(out))
"""
INSUFFICIENT_PRIVILEGE = "42501"
# What Flower must not hold: the names, and (prod) the values the stack was given.
FLOWER_FORBIDDEN = ("MODEL_SIGNING_KEY", "ML_SERVICE_TOKEN", "DATABASE_URL", "DATABASE_PASSWORD")


def test_web_serves_as_a_role_that_is_neither_superuser_nor_owner(stack):
    result = stack.exec("web", "python", "manage.py", "shell", "-c", _SCHEMA_PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe.pop("user") == stack.env.get("WEB_DATABASE_USER", "textclf_web")
    assert probe.pop("superuser") is False
    assert probe == {
        "CREATE TABLE probe (id int)": INSUFFICIENT_PRIVILEGE,
        "DROP TABLE data": INSUFFICIENT_PRIVILEGE,
        "ALTER TABLE data ADD COLUMN probe int": INSUFFICIENT_PRIVILEGE,
        "TRUNCATE data": INSUFFICIENT_PRIVILEGE,
        "DROP TABLE training_job": INSUFFICIENT_PRIVILEGE,
        "SELECT count(*) FROM training_job": INSUFFICIENT_PRIVILEGE,
    }


def test_web_still_writes_rows_and_keeps_the_row_count(api):
    def count() -> int:
        return api.get("/api/data/", params={"page_size": 1}).json()["count"]

    before = count()
    created = api.post("/api/data/", json={"text": "least privilege probe", "label": "probe"})
    assert created.status_code == 201, created.text
    assert count() == before + 1
    row = created.json()["id"]
    changed = api.request("PATCH", f"/api/data/{row}/", json={"label": "probe2"})
    assert changed.status_code == 200, changed.text
    assert api.request("DELETE", f"/api/data/{row}/").status_code == 204
    assert count() == before


def test_flower_holds_only_the_broker(stack):
    container = stack.compose("ps", "-q", "flower").stdout.strip()
    inspected = stack.run("docker", "inspect", "--format", "{{json .Config.Env}}", container)
    environment = dict(item.split("=", 1) for item in json.loads(inspected.stdout))

    assert "CELERY_BROKER_URL" in environment
    assert not [name for name in environment if name.startswith(FLOWER_FORBIDDEN)]
    secrets = [
        stack.env[name]
        for name in (
            "MODEL_SIGNING_KEY",
            "ML_SERVICE_TOKEN",
            "POSTGRES_PASSWORD",
            "WEB_DATABASE_PASSWORD",
            "ML_DATABASE_PASSWORD",
        )
        if name in stack.env
    ]
    assert not [value for value in environment.values() if any(s in value for s in secrets)]


def test_redis_refuses_a_client_without_the_password(stack, profile):
    if profile != "prod":
        pytest.skip("the prod overlay's promise: the base stack's Redis has no password")

    result = stack.exec("algorithm_celery", "python", "-c", REDIS_PASSWORD_PROBE)

    assert result.returncode == 0, result.stderr
    anonymous, authenticated = result.stdout.splitlines()
    assert "NOAUTH" in anonymous
    assert authenticated == repr(b"+OK\r\n+PONG\r\n")
