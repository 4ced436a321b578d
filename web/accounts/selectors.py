from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken


def token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """The user's tokens that still authenticate, newest first."""
    return ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )
