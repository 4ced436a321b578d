"""Revocation markers in Redis (the default cache), so that revocation wins in every web process
even while Postgres is down.

Each process remembers the tokens it verified (accounts.authentication) and, during a database
outage, keeps honouring them for TOKEN_OUTAGE_GRACE_SECONDS: without Postgres it cannot see
that a token was deleted or its user deactivated or demoted since. Every such change writes a
marker here (on commit, stamped with the time), and the outage path honours a remembered token
only if no marker is newer than the moment it was verified. Markers outlive the grace period, so
a remembered verification can never outlive the marker that cancels it.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis import RedisError

logger = logging.getLogger(__name__)


class RevocationsUnavailable(Exception):
    """Redis could not be asked: whether a remembered token was revoked is unknown."""


def _token_key(digest: str) -> str:
    return f"revoked:token:{digest}"


def _user_key(user_id: int) -> str:
    return f"revoked:user:{user_id}"


def _ttl() -> int:
    # A remembered verification is at most grace (+ the cache window) old.
    return settings.TOKEN_OUTAGE_GRACE_SECONDS + settings.TOKEN_CACHE_SECONDS + 60


def _write(key: str) -> None:
    try:
        cache.set(key, time.time(), timeout=_ttl())
    except (RedisError, OSError) as exc:
        # The database change stands; only the outage grace cannot learn of it.
        logger.error("Could not record revocation %s: %s", key, exc)


def token_revoked(*, digest: str) -> None:
    """Record, once the current transaction commits, that this token no longer authenticates."""
    transaction.on_commit(lambda: _write(_token_key(digest)))


def user_changed(*, user_id: int) -> None:
    """Record, on commit, that what this user's tokens may do shrank (deactivated, demoted,
    password changed or deleted)."""
    transaction.on_commit(lambda: _write(_user_key(user_id)))


def revoked_since(*, digest: str, user_id: int, verified_at: float) -> bool:
    """Whether the token or its user was revoked after `verified_at` (time.time()).

    Raises RevocationsUnavailable when Redis cannot answer.
    """
    try:
        markers = cache.get_many([_token_key(digest), _user_key(user_id)])
    except (RedisError, OSError) as exc:
        raise RevocationsUnavailable(str(exc)) from exc
    return any(stamp >= verified_at for stamp in markers.values())
