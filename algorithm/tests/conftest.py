"""Shared fixtures: a real Postgres database of our own, the test Redis, real data samples.

DATABASE_URL names a server and a maintenance database (the Makefile passes .../test); the suite
creates and finally drops its own `mlservice_test` there, so it never collides with web's tests.
CELERY_BROKER_URL should name a Redis database reserved for tests (the Makefile passes db 15).
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mlservice import create_app, db
from mlservice.config import Settings
from mlservice.ml import text_classifier
from tests.helpers import sample

ALGORITHM_DIR = Path(__file__).resolve().parents[1]
DATA_CSV = Path(
    os.environ.get(
        "DATA_CSV", ALGORITHM_DIR.parents[1] / "shared" / "data" / "debian-packages.csv.gz"
    )
)
TEST_DATABASE = "mlservice_test"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"


# --- infrastructure -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_url = os.environ.get("DATABASE_URL", DEFAULT_ADMIN_URL)
    assert conninfo_to_dict(admin_url).get("dbname") != TEST_DATABASE
    test_url = make_conninfo(admin_url, dbname=TEST_DATABASE)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEST_DATABASE))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DATABASE)))
    with psycopg.connect(test_url, autocommit=True) as conn:
        conn.execute((Path(__file__).parent / "sql" / "data_table.sql").read_text())
        db.init_db(conn)
    yield test_url
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(drop)


@pytest.fixture(scope="session")
def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL)


@pytest.fixture
def conn(database_url) -> Iterator[psycopg.Connection]:
    """A connection to the test database; both tables start empty in every test."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("TRUNCATE data, training_job RESTART IDENTITY")
        yield connection


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def settings(database_url, broker_url, models_dir, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        celery_broker_url=broker_url,
        models_dir=models_dir,
        model_keep_versions=3,
        worker_heartbeat_file=tmp_path / "worker_heartbeat",
        train_n_jobs=2,
        log_level="DEBUG",
    )


@pytest.fixture
def app(settings, conn):
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["celery"].control.purge()  # no message from an earlier test reaches a worker
    return app


@pytest.fixture
def client(app):
    return app.test_client()


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
