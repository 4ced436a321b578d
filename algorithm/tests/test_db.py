from pathlib import Path

import psycopg
import pytest

from mlservice import create_app, db
from tests.conftest import TEST_ML_ROLE


@pytest.fixture
def owner_settings(settings, database_url):
    """init-db runs with the owner's DATABASE_URL, as the compose one-shot step does."""
    return settings.replace(database_url=database_url)


@pytest.fixture
def as_ml_role(ml_database_url, conn):
    with psycopg.connect(ml_database_url, autocommit=True) as connection:
        yield connection


def test_init_db_command_is_idempotent(owner_settings, conn):
    runner = create_app(owner_settings).test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert f"Initialized the training_job table and the {TEST_ML_ROLE} role" in result.output
    indexes = {
        row[0]
        for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'training_job'")
    }
    assert {"training_job_pkey", "training_job_single_active"} <= indexes


def test_init_db_upgrades_a_table_from_the_first_release(owner_settings, ml_database_url, conn):
    """The issue-2 table (no lease columns) gains them in place, keeping its rows."""
    conn.execute("DROP TABLE training_job")
    conn.execute((Path(__file__).parent / "sql" / "schema_v1.sql").read_text())
    conn.execute("INSERT INTO training_job (id, status) VALUES (gen_random_uuid(), 'queued')")
    result = create_app(owner_settings).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    row = conn.execute("SELECT status, attempts, fence, stats FROM training_job").fetchone()
    assert row == ("queued", 0, None, None)
    # The role may use the new fence sequence.
    with psycopg.connect(ml_database_url, autocommit=True) as as_role:
        assert as_role.execute("SELECT nextval('training_job_fence_seq')").fetchone()[0] >= 1


def test_init_db_updates_the_role_password(owner_settings, database_url, conn):
    runner = create_app(owner_settings.replace(ml_database_password="rotated")).test_cli_runner()
    try:
        assert runner.invoke(args=["init-db"]).exit_code == 0
        verifier = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", [TEST_ML_ROLE]
        ).fetchone()[0]
        assert verifier.startswith("SCRAM-SHA-256$")  # stored hashed, never in clear
        assert "rotated" not in verifier
    finally:
        runner = create_app(owner_settings).test_cli_runner()
        assert runner.invoke(args=["init-db"]).exit_code == 0


def test_init_db_refuses_to_demote_the_owner(owner_settings, conn):
    owner = conn.execute("SELECT current_user").fetchone()[0]
    runner = create_app(owner_settings.replace(ml_database_user=owner)).test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code != 0
    assert "must not be the role in DATABASE_URL" in result.output
    assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [owner]).fetchone()[0]


def test_the_ml_role_reads_data_and_keeps_job_records(as_ml_role, conn):
    conn.execute("INSERT INTO data (text, label) VALUES ('a text', 'misc')")
    assert as_ml_role.execute("SELECT text, label FROM data").fetchall() == [("a text", "misc")]
    as_ml_role.execute("INSERT INTO training_job (id) VALUES (gen_random_uuid())")
    as_ml_role.execute(
        "UPDATE training_job SET status = 'failed', error = 'x', finished_at = now()"
    )
    as_ml_role.execute("DELETE FROM training_job")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO data (text, label) VALUES ('x', 'y')",
        "UPDATE data SET label = 'y'",
        "DELETE FROM data",
        "TRUNCATE data",
        "TRUNCATE training_job",
        "DROP TABLE data",
        "DROP TABLE training_job",
        "DROP INDEX training_job_single_active",
        "ALTER TABLE training_job ADD COLUMN x int",
        "CREATE TABLE mine (id int)",
        "CREATE ROLE another",
    ],
)
def test_the_ml_role_cannot_write_data_or_change_the_schema(as_ml_role, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_ml_role.execute(statement)


def test_the_ml_role_owns_nothing_and_is_not_privileged(conn):
    owned = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
        " WHERE r.rolname = %s",
        [TEST_ML_ROLE],
    ).fetchone()[0]
    assert owned == 0
    flags = conn.execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
        " FROM pg_roles WHERE rolname = %s",
        [TEST_ML_ROLE],
    ).fetchone()
    assert flags == (True, False, False, False, False, False)


def test_the_schema_enforces_one_active_job(conn):
    conn.execute("INSERT INTO training_job (id) VALUES (gen_random_uuid())")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO training_job (id, status, fence, heartbeat_at)"
            " VALUES (gen_random_uuid(), 'running', 1, now())"
        )
    # Finished jobs don't count.
    conn.execute(
        "INSERT INTO training_job (id, status, error, finished_at)"
        " VALUES (gen_random_uuid(), 'failed', 'x', now())"
    )


@pytest.mark.parametrize(
    "values",
    [
        "'done', NULL, NULL, 0",
        "'running', NULL, NULL, 0",  # running without a lease
        "'queued', NULL, NULL, -1",
    ],
)
def test_the_schema_rejects_inconsistent_rows(conn, values):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO training_job (id, status, fence, heartbeat_at, attempts)"
            f" VALUES (gen_random_uuid(), {values})"
        )


def test_a_succeeded_job_needs_its_model(conn):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO training_job (id, status, finished_at)"
            " VALUES (gen_random_uuid(), 'succeeded', now())"
        )


def test_an_unreachable_database_fails_fast(settings):
    dead = settings.replace(database_url="postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(psycopg.OperationalError):
        db.connect(dead)
