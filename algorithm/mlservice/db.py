"""Postgres connections (psycopg 3) and the idempotent `init-db` command.

The API opens one short-lived connection per request that needs the database (flaskr's
`get_db`/`close_db`): only job endpoints do, so pooling would add fork-safety and retry
machinery for little gain. `connect_timeout` keeps a dead database a fast 503.

`init-db` runs with the owner's DATABASE_URL: it applies schema.sql and maintains the
least-privilege role (ML_DATABASE_USER) that the API and the worker log in as: it may read `data`
and keep `training_job` rows, and nothing else; it owns nothing, so it can drop nothing.
"""

from __future__ import annotations

from importlib import resources

import click
import psycopg
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from psycopg import sql

from mlservice.config import Settings

# Serialises concurrent `init-db` runs: CREATE ... IF NOT EXISTS can still race on the catalog.
_SCHEMA_LOCK_ID = 0x6D6C7376  # "mlsv"
# A request never waits longer than this on a lock or a slow query.
_API_STATEMENT_TIMEOUT_MS = 10_000
# What the least-privilege role may do, table by table; sequences of training_job get USAGE.
_ROLE_TABLE_PRIVILEGES = {
    "data": "SELECT",
    "training_job": "SELECT, INSERT, UPDATE, DELETE",
    "model_version": "SELECT, INSERT, UPDATE (stage), DELETE",
    "model_pointer": "SELECT, INSERT, UPDATE",
    "model_stage_change": "SELECT, INSERT",
    "shadow_agreement": "SELECT, INSERT, UPDATE",
}


class RoleError(Exception):
    """The least-privilege role cannot be set up as configured."""


def connect(settings: Settings, *, statement_timeout_ms: int | None = None) -> psycopg.Connection:
    """An autocommit connection; use `with conn.transaction()` for multi-statement work."""
    options = f"-c statement_timeout={statement_timeout_ms}" if statement_timeout_ms else None
    return psycopg.connect(
        settings.database_url.get_secret_value(),
        autocommit=True,
        connect_timeout=settings.database_connect_timeout,
        application_name="mlservice",
        **({"options": options} if options else {}),
    )


def get_db() -> psycopg.Connection:
    """This request's connection, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = connect(
            current_app.config["SETTINGS"], statement_timeout_ms=_API_STATEMENT_TIMEOUT_MS
        )
    return g.db


def close_db(exception: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_db(conn: psycopg.Connection) -> None:
    schema = resources.files("mlservice").joinpath("schema.sql").read_text(encoding="utf-8")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK_ID])
        conn.execute(schema)


def ensure_ml_role(conn: psycopg.Connection, *, user: str, password: str) -> None:
    """Create or update the service's login role and converge its privileges to exactly these.

    Idempotent: a second run changes nothing but the password (if it changed). Raises RoleError
    if `user` is the connected owner (demoting it would lock the owner out) or if `data` is
    missing (web's migrations create it and must run first).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK_ID])
        owner, database = conn.execute("SELECT current_user, current_database()").fetchone()
        if user == owner:
            raise RoleError(
                f"ML_DATABASE_USER ({user}) must not be the role in DATABASE_URL, which owns "
                "the tables; choose a separate, least-privilege role."
            )
        for table in _ROLE_TABLE_PRIVILEGES:
            if conn.execute("SELECT to_regclass(%s)", [f"public.{table}"]).fetchone()[0] is None:
                raise RoleError(f"Table {table} does not exist yet; run web's migrations first.")

        role = sql.Identifier(user)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user]).fetchone()
        # Hashed client-side (SCRAM, per the server's password_encryption), so the clear-text
        # password never appears in the statement or the server's logs.
        verifier = conn.pgconn.encrypt_password(password.encode(), user.encode()).decode()
        conn.execute(
            sql.SQL(
                "{} ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                " NOBYPASSRLS PASSWORD {}"
            ).format(sql.SQL("ALTER" if exists else "CREATE"), role, sql.Literal(verifier))
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role)
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        # PostgreSQL 15 already denies CREATE in public to ordinary roles; older servers grant
        # it to PUBLIC, which would let this role own (and drop) tables of its own.
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role))
        # Converge: whatever else was granted to the role in this schema goes.
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role))
        conn.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(role))
        for table, privileges in _ROLE_TABLE_PRIVILEGES.items():
            conn.execute(
                sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                    sql.SQL(privileges), sql.Identifier(table), role
                )
            )
        for (sequence,) in conn.execute(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
            " WHERE s.relkind = 'S'"
            "  AND d.refobjid IN ('training_job'::regclass, 'model_stage_change'::regclass)"
        ).fetchall():
            conn.execute(
                sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(sequence), role)
            )


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or update the training_job table and the service's least-privilege role."""
    settings = current_app.config["SETTINGS"]
    with connect(settings) as conn:
        init_db(conn)
        try:
            ensure_ml_role(
                conn,
                user=settings.ml_database_user,
                password=settings.ml_database_password.get_secret_value(),
            )
        except RoleError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Initialized the training_job table and the {settings.ml_database_user} role.")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
