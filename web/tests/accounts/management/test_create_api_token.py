from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_creates_a_token_only_user_and_prints_only_the_key():
    printed = run("bob")

    user = User.objects.get(username="bob")
    token = ApiToken.objects.get(user=user)
    assert token.name == "cli"
    assert token.expiry is None
    assert len(printed) == 64
    assert printed not in token.digest
    assert not user.has_usable_password()
    assert not user.is_staff


def test_staff_flag_makes_the_user_staff():
    run("carol", "--staff")

    assert User.objects.get(username="carol").is_staff


def test_name_and_expiry():
    run("erin", "--name", "nightly", "--expires-in", "3600")

    token = ApiToken.objects.get(user__username="erin")
    assert token.name == "nightly"
    assert 3500 < (token.expiry - timezone.now()).total_seconds() <= 3600


def test_each_run_adds_a_token_and_an_existing_user_can_be_promoted(user):
    first = run("alice")
    second = run("alice", "--staff")

    user.refresh_from_db()
    assert first != second
    assert ApiToken.objects.filter(user=user).count() == 2
    assert user.is_staff
    assert user.check_password("alice-password")


def test_the_printed_token_authenticates(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {run('dave')}")

    assert anonymous_client.get("/api/data/").status_code == 200


@pytest.mark.parametrize("username", ["", "has space", "semi;colon"])
def test_invalid_username_is_a_command_error(username):
    with pytest.raises(CommandError):
        run(username)

    assert not User.objects.exists()


@pytest.mark.parametrize("args", [("--expires-in", "0"), ("--expires-in", "x"), ("--name", "")])
def test_invalid_options_are_refused(args):
    with pytest.raises((CommandError, SystemExit)):
        run("frank", *args)

    assert not ApiToken.objects.exists()
