"""Keys issued as DRF tokens keep working after the migration to digests, and no plaintext key
stays in the database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0001_initial"), ("authtoken", "0004_alter_tokenproxy_options")]
AFTER = [("accounts", "0002_tokens_from_drf_authtoken")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_key():
    old_apps = migrate(BEFORE)
    User = old_apps.get_model("auth", "User")
    Token = old_apps.get_model("authtoken", "Token")
    user = User.objects.create(username="legacy", is_active=True)
    key = "0123456789abcdef0123456789abcdef01234567"  # DRF's format: 40 hex characters
    Token.objects.create(key=key, user=user)
    yield key
    migrate(AFTER)  # leave the database at the latest state for the next tests


def test_an_old_drf_key_authenticates_after_the_migration(old_key):
    new_apps = migrate(AFTER)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old_key}")
    assert client.get("/api/data/").status_code == 200
    token = new_apps.get_model("accounts", "ApiToken").objects.get(user__username="legacy")
    assert token.name == "migrated"
    assert old_key not in token.digest


def test_no_plaintext_key_is_left(old_key):
    migrate(AFTER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM accounts_apitoken WHERE digest LIKE %s", [old_key])
        assert cursor.fetchone() == (0,)
