import psycopg
import pytest

from mlservice import create_app, db


def test_init_db_command_is_idempotent(settings, conn):
    runner = create_app(settings).test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Initialized" in result.output
    indexes = {
        row[0]
        for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'training_job'")
    }
    assert {"training_job_pkey", "training_job_single_active"} <= indexes


def test_the_schema_enforces_one_active_job(conn):
    conn.execute("INSERT INTO training_job (id) VALUES (gen_random_uuid())")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO training_job (id, status) VALUES (gen_random_uuid(), 'running')")
    # Finished jobs don't count.
    conn.execute(
        "INSERT INTO training_job (id, status, error, finished_at)"
        " VALUES (gen_random_uuid(), 'failed', 'x', now())"
    )


def test_the_schema_rejects_inconsistent_rows(conn):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO training_job (id, status) VALUES (gen_random_uuid(), 'done')")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO training_job (id, status, finished_at)"
            " VALUES (gen_random_uuid(), 'succeeded', now())"
        )


def test_an_unreachable_database_fails_fast(settings):
    from dataclasses import replace

    dead = replace(settings, database_url="postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(psycopg.OperationalError):
        db.connect(dead)
