"""Shared fixtures: a real Postgres database of our own, the test Redis, real data samples.

DATABASE_URL names a server and a maintenance database (the Makefile passes .../test); the suite
creates and finally drops its own `mlservice_test` there, so it never collides with web's tests.
As in production, the code under test logs in as the least-privilege role that init-db
maintains (`settings.database_url`); fixtures that set up rows use the owner (`conn`).
CELERY_BROKER_URL should name a Redis database reserved for tests (the Makefile passes db 15).
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# prometheus-client picks multiprocess mode when first imported: point it at a directory of
# this test session before anything imports it (as gunicorn's master does in production).
PROMETHEUS_DIR = Path(tempfile.mkdtemp(prefix="mlservice-test-prometheus-"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_DIR)

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mlservice import create_app, db
from mlservice.config import Settings
from mlservice.ml import text_classifier
from tests.support import (
    TEST_SERVICE_TOKEN,
    TEST_SIGNING_KEY,
    authenticated,
    publish_trained,
    sample,
)

ALGORITHM_DIR = Path(__file__).resolve().parents[1]
DATA_CSV = Path(
    os.environ.get(
        "DATA_CSV", ALGORITHM_DIR.parents[1] / "shared" / "data" / "debian-packages.csv.gz"
    )
)
# Override (with another CELERY_BROKER_URL database) to run two suites side by side.
TEST_DATABASE = os.environ.get("MLSERVICE_TEST_DATABASE", "mlservice_test")
# Roles are per server, not per database: a name of its own, dropped with the test database.
TEST_ML_ROLE = f"{TEST_DATABASE}_ml"
TEST_ML_PASSWORD = "mlservice-test-ml-password"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"


# --- infrastructure -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The owner's URL of the test database (schema applied, ML role set up)."""
    admin_url = os.environ.get("DATABASE_URL", DEFAULT_ADMIN_URL)
    assert conninfo_to_dict(admin_url).get("dbname") != TEST_DATABASE
    test_url = make_conninfo(admin_url, dbname=TEST_DATABASE)
    drop_database = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(TEST_DATABASE)
    )
    drop_role = sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(TEST_ML_ROLE))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(drop_database)
        admin.execute(drop_role)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DATABASE)))
    with psycopg.connect(test_url, autocommit=True) as conn:
        conn.execute((Path(__file__).parent / "sql" / "data_table.sql").read_text())
        db.init_db(conn)
        db.ensure_ml_role(conn, user=TEST_ML_ROLE, password=TEST_ML_PASSWORD)
    yield test_url
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(drop_database)
        admin.execute(drop_role)


@pytest.fixture(scope="session")
def ml_database_url(database_url) -> str:
    """The same database as the least-privilege role: what the API and the worker use."""
    return make_conninfo(database_url, user=TEST_ML_ROLE, password=TEST_ML_PASSWORD)


@pytest.fixture(scope="session", autouse=True)
def _remove_prometheus_dir() -> Iterator[None]:
    yield
    shutil.rmtree(PROMETHEUS_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL)


@pytest.fixture
def conn(database_url) -> Iterator[psycopg.Connection]:
    """A connection to the test database; every table starts empty in every test."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE data, training_job, model_pointer, model_version, model_stage_change,"
            " shadow_agreement"
            " RESTART IDENTITY"
        )
        yield connection


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def settings(ml_database_url, broker_url, models_dir, tmp_path) -> Settings:
    return Settings(
        database_url=ml_database_url,
        celery_broker_url=broker_url,
        models_dir=models_dir,
        model_keep_versions=3,
        worker_heartbeat_file=tmp_path / "worker_heartbeat",
        train_n_jobs=2,
        log_level="DEBUG",
        ml_service_token=TEST_SERVICE_TOKEN,
        ml_database_user=TEST_ML_ROLE,
        ml_database_password=TEST_ML_PASSWORD,
        prometheus_multiproc_dir=PROMETHEUS_DIR,
        log_format="console",
        model_signing_key=TEST_SIGNING_KEY,
        # The follower thread is tested on its own (test_artifact_db.py).
        model_sync_seconds=0,
    )


@pytest.fixture
def app(settings, conn):
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["celery"].control.purge()  # no message from an earlier test reaches a worker
    return app


@pytest.fixture
def client(app):
    """A test client that authenticates like the web gateway (X-Service-Token)."""
    return authenticated(app.test_client())


# --- real data ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, str]]:
    """Every (text, label) row of the real Debian package corpus."""
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        return [(row["text"], row["label"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="session")
def trained_model(corpus) -> text_classifier.TrainedModel:
    """A linear_svc model trained on 1,500 random real rows (rare labels included)."""
    rows = sample(corpus, 1500, seed=7)
    return text_classifier.train([t for t, _ in rows], [y for _, y in rows], n_jobs=2)


@pytest.fixture
def model_version(models_dir, trained_model) -> str:
    """`trained_model`, published (signed) as the current model of `models_dir`."""
    return publish_trained(models_dir, trained_model)
