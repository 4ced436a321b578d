"""Create or update the role web serves requests as, with DML on web's tables and nothing more.

Run by the one-shot web_migrate step right after `migrate`, with the owner's DATABASE_URL; web
itself then logs in as WEB_DATABASE_USER. The role is no superuser and owns nothing, so a
compromised web process can read and write rows but cannot create, alter or drop a table, nor
touch the ML service's `training_job`. Privileges converge to exactly these on every run, and
run after every `migrate`, so a table a new migration adds is covered without default privileges
(which would also hand web the tables algorithm_migrate creates as the same owner).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

# Tables web's migrations create with raw SQL, not as models (data.migrations.0003): the
# row-count triggers run as the caller, so the role must update this one too.
RAW_SQL_TABLES = ("data_row_count",)
# Serialises concurrent runs (two web_migrate starts): GRANT/REVOKE can race on the catalog.
_LOCK_ID = 0x77656272  # "webr"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options) -> None:
        user, password = settings.WEB_DATABASE_USER, settings.WEB_DATABASE_PASSWORD
        if not password:
            raise CommandError("WEB_DATABASE_PASSWORD must be set to create the web role.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
            if user == owner:
                raise CommandError(
                    f"WEB_DATABASE_USER ({user}) must not be the role in DATABASE_URL, which "
                    "owns the tables; choose a separate, least-privilege role."
                )
            tables = sorted(
                set(connection.introspection.django_table_names(only_existing=True))
                | {t for t in RAW_SQL_TABLES if t in connection.introspection.table_names()}
            )
            for statement, params in _role_statements(connection, user, password, database, tables):
                cursor.execute(statement, params)
        self.stdout.write(f"Role {user!r}: DML on {len(tables)} tables of web, nothing else.")


def _role_statements(connection, user, password, database, tables):
    role = sql.Identifier(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
        exists = cursor.fetchone() is not None
        # Hashed client-side (SCRAM, per the server's password_encryption), so the clear-text
        # password never appears in a statement or the server's logs.
        raw = connection.connection
        verifier = raw.pgconn.encrypt_password(password.encode(), user.encode()).decode()
        cursor.execute(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
            " WHERE s.relkind = 'S' AND d.refobjid = ANY(%s::regclass[])",
            [tables],
        )
        sequences = [name for (name,) in cursor.fetchall()]
    yield (
        sql.SQL(
            "{} ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            " NOBYPASSRLS PASSWORD {}"
        ).format(sql.SQL("ALTER" if exists else "CREATE"), role, sql.Literal(verifier)),
        None,
    )
    yield sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role), None
    yield sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role), None
    # PostgreSQL 15 already denies CREATE in public to ordinary roles; older servers grant it to
    # PUBLIC, which would let this role own (and drop) tables of its own.
    yield sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"), None
    yield sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role), None
    yield sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role), None
    yield sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(role), None
    if tables:
        yield (
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {}").format(
                sql.SQL(", ").join(map(sql.Identifier, tables)), role
            ),
            None,
        )
    if sequences:
        yield (
            sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(
                sql.SQL(", ").join(map(sql.Identifier, sequences)), role
            ),
            None,
        )
