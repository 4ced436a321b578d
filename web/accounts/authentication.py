"""Token authentication that looks a token up at most every few seconds per process, and keeps
recently verified tokens working through a database outage.

Each gunicorn worker process remembers the tokens it verified, with the user they belong to:
- for TOKEN_CACHE_SECONDS it trusts that answer without asking Postgres again. The lookup (a
  query and an ORM round trip) was the largest single cost of a prediction in web; the price is
  that a deleted token or a deactivated user keeps working in a process for at most that long.
- when the lookup itself fails with a database error, a token verified within
  TOKEN_OUTAGE_GRACE_SECONDS still authenticates, as the user it was then. So predictions, which
  need no database, go on while Postgres is down, and the data endpoints answer 503.
Only tokens that once verified are remembered, so unknown keys can neither fill the memory nor
get in.
"""

import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from rest_framework.authentication import TokenAuthentication

# Bounds the memory of a process that sees very many distinct tokens.
_MAX_REMEMBERED = 10_000


class _RecentTokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, tuple]] = {}

    def remember(self, key: str, credentials: tuple) -> None:
        with self._lock:
            if len(self._entries) >= _MAX_REMEMBERED and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest insertion
            self._entries[key] = (time.monotonic(), credentials)

    def recall(self, key: str, grace: float) -> tuple | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > grace:
            return None
        return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


recent_tokens = _RecentTokens()


class OutageTolerantTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        fresh = recent_tokens.recall(key, settings.TOKEN_CACHE_SECONDS)
        if fresh is not None:
            return fresh
        try:
            credentials = super().authenticate_credentials(key)
        except (OperationalError, InterfaceError):
            remembered = recent_tokens.recall(key, settings.TOKEN_OUTAGE_GRACE_SECONDS)
            if remembered is None:
                raise  # the exception handler answers 503
            return remembered
        recent_tokens.remember(key, credentials)
        return credentials
