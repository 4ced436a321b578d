"""Users and their API tokens (accounts.ApiToken: named, optional expiry, stored as a digest)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken

User = get_user_model()

LOGIN_TOKEN_NAME = "login"  # noqa: S105 - a label, not a secret


def api_token_obtain(*, username: str, password: str) -> tuple[ApiToken, str]:
    """A new token named "login" (expiring after LOGIN_TOKEN_EXPIRES_SECONDS) and its key;
    ValidationError for wrong credentials."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise ValidationError("Unable to log in with the provided credentials.")
    seconds = settings.LOGIN_TOKEN_EXPIRES_SECONDS
    return token_create(
        user=user, name=LOGIN_TOKEN_NAME, expires_in=timedelta(seconds=seconds) if seconds else None
    )


def token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    expires_in: timedelta | None = None,
    not_after: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its key, which is not stored and so is shown only now.

    `not_after` caps the expiry: a token that expires cannot mint one that outlives it.
    """
    expiry = None if expires_in is None else timezone.now() + expires_in
    if not_after is not None and (expiry is None or expiry > not_after):
        expiry = not_after
    with transaction.atomic():
        # knox's manager takes a lifetime, not a date: a cap must land exactly on the date.
        token, key = ApiToken.objects.create(user=user, name=name, expiry=None)
        if expiry is not None:
            token.expiry = expiry
            token.save(update_fields=["expiry"])
    return token, key


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> None:
    """Delete one of the user's own tokens; ObjectDoesNotExist (404) for any other id."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise ObjectDoesNotExist(f"No token {token_id} of this user.")


@transaction.atomic
def admin_ensure(*, username: str, password: str, email: str) -> tuple[AbstractBaseUser, bool]:
    """Create the bootstrap superuser once; an existing user is left untouched.

    Idempotent so the one-shot migrate step can run it on every start. Returns (user, created).
    The admin gets tokens by logging in (POST /api/auth/token/).
    """
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User.objects.create_superuser(username=username, email=email, password=password)
    return user, True


@transaction.atomic
def api_token_issue(
    *,
    username: str,
    staff: bool = False,
    name: str = "cli",
    expires_in: timedelta | None = None,
) -> tuple[ApiToken, str, bool]:
    """A new token for `username`, creating the user (no password: token-only) if missing.

    `staff=True` grants staff (may train and activate models); it never revokes it. Returns
    (token, key, user_created); ValidationError for a username Django would not accept.
    """
    User.username_validator(username)
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
    if staff:
        user.is_staff = True
    if created or staff:
        user.save()
    token, key = token_create(user=user, name=name, expires_in=expires_in)
    return token, key, created
