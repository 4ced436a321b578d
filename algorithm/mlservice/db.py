"""Postgres connections (psycopg 3) and the idempotent `init-db` command.

The API opens one short-lived connection per request that needs the database (flaskr's
`get_db`/`close_db`): only job endpoints do, so pooling would add fork-safety and retry
machinery for little gain. `connect_timeout` keeps a dead database a fast 503.
"""

from __future__ import annotations

from importlib import resources

import click
import psycopg
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from mlservice.config import Settings

# Serialises concurrent `init-db` runs: CREATE ... IF NOT EXISTS can still race on the catalog.
_SCHEMA_LOCK_ID = 0x6D6C7376  # "mlsv"
# A request never waits longer than this on a lock or a slow query.
_API_STATEMENT_TIMEOUT_MS = 10_000


def connect(settings: Settings, *, statement_timeout_ms: int | None = None) -> psycopg.Connection:
    """An autocommit connection; use `with conn.transaction()` for multi-statement work."""
    options = f"-c statement_timeout={statement_timeout_ms}" if statement_timeout_ms else None
    return psycopg.connect(
        settings.database_url,
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


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the training_job table and its indexes if they are missing."""
    with connect(current_app.config["SETTINGS"]) as conn:
        init_db(conn)
    click.echo("Initialized the training_job table.")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
