from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

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
