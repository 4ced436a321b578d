from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def admin_settings(settings):
    settings.ADMIN_USERNAME = "root"
    settings.ADMIN_PASSWORD = "s3cret-pass"
    settings.ADMIN_EMAIL = "root@example.com"
    return settings


def test_creates_a_superuser(admin_settings):
    out = StringIO()

    call_command("ensure_admin", stdout=out)

    user = User.objects.get(username="root")
    assert user.is_superuser
    assert user.is_staff
    assert user.email == "root@example.com"
    assert user.check_password("s3cret-pass")
    assert "Created" in out.getvalue()


def test_is_idempotent_and_changes_nothing_on_an_existing_user(admin_settings):
    call_command("ensure_admin", stdout=StringIO())
    admin_settings.ADMIN_PASSWORD = "a-different-password"
    admin_settings.ADMIN_EMAIL = "changed@example.com"

    call_command("ensure_admin", stdout=StringIO())

    user = User.objects.get(username="root")
    assert User.objects.count() == 1
    assert user.check_password("s3cret-pass")
    assert user.email == "root@example.com"


@pytest.fixture
def production_admin(admin_settings):
    admin_settings.ENFORCE_STRONG_SECRETS = True
    admin_settings.ADMIN_PASSWORD = "correct horse battery staple 42"
    return admin_settings


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("admin", "too short"),
        ("password123", "too common"),
        ("83920174628", "entirely numeric"),
        ("root@example.com", "too similar"),
    ],
)
def test_production_refuses_an_admin_password_that_fails_the_validators(
    production_admin, password, reason
):
    production_admin.ADMIN_PASSWORD = password

    with pytest.raises(CommandError, match="ADMIN_PASSWORD fails the password validators") as exc:
        call_command("ensure_admin", stdout=StringIO())

    assert reason in str(exc.value)
    assert not User.objects.filter(username="root").exists()


def test_production_creates_the_admin_with_a_password_that_passes(production_admin):
    call_command("ensure_admin", stdout=StringIO())

    assert User.objects.get(username="root").check_password("correct horse battery staple 42")


def test_production_resets_an_existing_admins_password_that_differs(production_admin):
    # What a development start leaves behind: the admin with the published password.
    User.objects.create_superuser(username="root", email="root@example.com", password="admin")
    out = StringIO()

    call_command("ensure_admin", stdout=out)

    user = User.objects.get(username="root")
    assert not user.check_password("admin")
    assert user.check_password("correct horse battery staple 42")
    assert "was reset" in out.getvalue()


def test_production_leaves_an_existing_admin_whose_password_matches(production_admin):
    call_command("ensure_admin", stdout=StringIO())
    out = StringIO()

    call_command("ensure_admin", stdout=out)

    assert "unchanged" in out.getvalue()
