"""ensure_db_role: web's own role may read and write its rows and nothing else."""

from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Vb8nQ2xL5kRt9wZm3cHp7jFs1dYg4aEu"


@pytest.fixture
def role(settings):
    # Roles are shared by every database of the server: one name per test database.
    settings.WEB_DATABASE_USER = f"{connection.settings_dict['NAME']}_web"
    settings.WEB_DATABASE_PASSWORD = PASSWORD
    yield settings.WEB_DATABASE_USER
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{settings.WEB_DATABASE_USER}"')
        cursor.execute(f'DROP ROLE IF EXISTS "{settings.WEB_DATABASE_USER}"')


def connect_as(user: str) -> psycopg.Connection:
    params = connection.get_connection_params()
    return psycopg.connect(
        host=params.get("host") or "127.0.0.1",
        port=params.get("port") or 5432,
        dbname=connection.settings_dict["NAME"],
        user=user,
        password=PASSWORD,
        autocommit=True,
    )


def test_the_role_reads_and_writes_rows_and_keeps_the_row_count(role):
    call_command("ensure_db_role", stdout=StringIO())

    with connect_as(role) as conn:
        conn.execute(
            "INSERT INTO data (text, label, created_at, updated_at) VALUES ('t', 'l', now(), now())"
        )
        assert conn.execute("SELECT n FROM data_row_count").fetchone()[0] == 1
        conn.execute("UPDATE data SET label = 'm'")
        conn.execute("DELETE FROM data")
        assert conn.execute("SELECT n FROM data_row_count").fetchone()[0] == 0
        conn.execute("SELECT count(*) FROM authtoken_token").fetchone()


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE probe (id int)",
        "DROP TABLE data",
        "ALTER TABLE data ADD COLUMN probe int",
        "TRUNCATE data",
        "DROP TRIGGER data_row_count_insert ON data",
        "CREATE ROLE probe",
    ],
)
def test_the_role_cannot_change_the_schema(role, statement):
    call_command("ensure_db_role", stdout=StringIO())

    with connect_as(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_role_is_not_a_superuser_and_owns_nothing(role):
    call_command("ensure_db_role", stdout=StringIO())

    with connect_as(role) as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert superuser.fetchone()[0] is False
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles"
            " WHERE rolname = current_user)"
        )
        assert owned.fetchone()[0] == 0


def test_a_rerun_takes_back_privileges_granted_by_hand(role):
    call_command("ensure_db_role", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE ON data TO "{role}"')

    call_command("ensure_db_role", stdout=StringIO())

    with connect_as(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("TRUNCATE data")


def test_refuses_the_owner_as_the_web_role(settings):
    settings.WEB_DATABASE_USER = connection.get_connection_params()["user"]
    settings.WEB_DATABASE_PASSWORD = PASSWORD

    with pytest.raises(CommandError, match="must not be the role in DATABASE_URL"):
        call_command("ensure_db_role", stdout=StringIO())


def test_refuses_to_run_without_a_password(settings):
    settings.WEB_DATABASE_PASSWORD = ""

    with pytest.raises(CommandError, match="WEB_DATABASE_PASSWORD"):
        call_command("ensure_db_role", stdout=StringIO())
