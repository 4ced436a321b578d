"""Users and their API tokens (DRF's one-token-per-user `Token`)."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

User = get_user_model()


def api_token_obtain(*, username: str, password: str) -> Token:
    """The user's token (created on first login); ValidationError for wrong credentials."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise ValidationError("Unable to log in with the provided credentials.")
    return token_get_or_create(user=user)


def token_get_or_create(*, user: AbstractBaseUser) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def admin_ensure(*, username: str, password: str, email: str) -> tuple[AbstractBaseUser, bool]:
    """Create the bootstrap superuser and its token once; an existing user is left untouched.

    Idempotent so the one-shot migrate step can run it on every start. Returns (user, created).
    """
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User.objects.create_superuser(username=username, email=email, password=password)
    token_get_or_create(user=user)
    return user, True


@transaction.atomic
def api_token_issue(*, username: str, staff: bool = False) -> tuple[Token, bool]:
    """The token of `username`, creating the user (no password: token-only) if missing.

    `staff=True` grants staff (may start training); it never revokes it. Returns
    (token, user_created); ValidationError for a username Django would not accept.
    """
    User.username_validator(username)
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
    if staff:
        user.is_staff = True
    if created or staff:
        user.save()
    return token_get_or_create(user=user), created
