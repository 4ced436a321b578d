"""Token authentication (django-rest-knox: `Authorization: Token <key>`, digests at rest) that
looks a token up at most every few seconds per process, and keeps recently verified tokens
working through a database outage, unless they were revoked.

Each gunicorn worker process remembers the tokens it verified, with the user they belong to:
- for TOKEN_CACHE_SECONDS it trusts that answer without asking Postgres again. The lookup (a
  query and an ORM round trip) was the largest single cost of a prediction in web; the price is
  that a revoked token, or a deactivated or demoted user, keeps its rights in a process for at
  most that long. After that the token and its user are read again.
- when the lookup itself fails with a database error, a token verified within
  TOKEN_OUTAGE_GRACE_SECONDS still authenticates, as the user it was then, provided Redis says
  neither the token nor its user was revoked since (accounts.revocation) and the token has not
  expired. If Redis cannot say either, the answer is 503: revocation wins over availability.
  So predictions, which need no database, go on while Postgres is down, and the data endpoints
  answer 503.
Only tokens that once verified are remembered, so unknown keys can neither fill the memory nor
get in. Entries are keyed by the token's digest, as in the database.
"""

import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

from accounts.revocation import RevocationsUnavailable, revoked_since

# Bounds the memory of a process that sees very many distinct tokens.
_MAX_REMEMBERED = 10_000


class _RecentTokens:
    """digest -> (monotonic time, wall time, (user, token)) of the last verification."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, float, tuple]] = {}

    def remember(self, digest: str, credentials: tuple, *, verified_at: float) -> None:
        with self._lock:
            if len(self._entries) >= _MAX_REMEMBERED and digest not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest insertion
            self._entries[digest] = (time.monotonic(), verified_at, credentials)

    def recall(self, digest: str, within: float) -> tuple[float, tuple] | None:
        """(wall time of the verification, credentials) if verified within `within` s."""
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry[0] > within:
            return None
        return entry[1], entry[2]

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


recent_tokens = _RecentTokens()


def _expired(credentials: tuple) -> bool:
    expiry = credentials[1].expiry
    return expiry is not None and expiry < timezone.now()


class OutageTolerantTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            digest = hash_token(token.decode("utf-8"))
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        fresh = recent_tokens.recall(digest, settings.TOKEN_CACHE_SECONDS)
        if fresh is not None and not _expired(fresh[1]):
            return fresh[1]
        # Stamped before the lookup: a revocation committed during it is newer than the stamp.
        verified_at = time.time()
        try:
            credentials = super().authenticate_credentials(token)
        except (OperationalError, InterfaceError) as exc:
            return self._during_outage(digest, exc)
        except exceptions.AuthenticationFailed:
            recent_tokens.forget(digest)
            raise
        recent_tokens.remember(digest, credentials, verified_at=verified_at)
        return credentials

    def _during_outage(self, digest: str, exc: Exception) -> tuple:
        remembered = recent_tokens.recall(digest, settings.TOKEN_OUTAGE_GRACE_SECONDS)
        if remembered is None:
            raise exc  # the exception handler answers 503
        verified_at, credentials = remembered
        user = credentials[0]
        if _expired(credentials):
            raise exceptions.AuthenticationFailed("Invalid token.")
        try:
            revoked = revoked_since(digest=digest, user_id=user.pk, verified_at=verified_at)
        except RevocationsUnavailable:
            # Imported here: common.errors imports DRF's views, which load this module.
            from common.errors import ServiceUnavailable

            raise ServiceUnavailable(
                "The database and the revocation list are unavailable; try again shortly."
            ) from None
        if revoked:
            # Remembered still, so that the next attempt is a 401 again and not a 503.
            raise exceptions.AuthenticationFailed("Invalid token.")
        return credentials
