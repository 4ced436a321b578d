from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_creates_a_token_only_user_and_prints_only_the_token():
    printed = run("bob")

    user = User.objects.get(username="bob")
    assert printed == Token.objects.get(user=user).key
    assert not user.has_usable_password()
    assert not user.is_staff


def test_staff_flag_makes_the_user_staff():
    run("carol", "--staff")

    assert User.objects.get(username="carol").is_staff


def test_existing_user_keeps_its_token_and_can_be_promoted(user):
    first = run("alice")
    second = run("alice", "--staff")

    user.refresh_from_db()
    assert first == second
    assert user.is_staff
    assert user.check_password("alice-password")


def test_the_printed_token_authenticates(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {run('dave')}")

    assert anonymous_client.get("/api/auth/check/").status_code == 204


@pytest.mark.parametrize("username", ["", "has space", "semi;colon"])
def test_invalid_username_is_a_command_error(username):
    with pytest.raises(CommandError):
        run(username)

    assert not User.objects.exists()
