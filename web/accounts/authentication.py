"""Token authentication that keeps recently verified tokens working through a database outage.

Each gunicorn worker process remembers the tokens it verified in the last
TOKEN_OUTAGE_GRACE_SECONDS. While Postgres answers, every request is checked as DRF always does (a
deleted token or a deactivated user stops working at once); only when the lookup itself fails
with a database error does a token verified within the grace period still authenticate, as the
user it was then. So predictions, which need no database, go on while Postgres is down, and the
data endpoints answer 503. Only tokens that once verified are remembered, so unknown keys can
neither fill the memory nor get in.
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
        try:
            credentials = super().authenticate_credentials(key)
        except (OperationalError, InterfaceError):
            remembered = recent_tokens.recall(key, settings.TOKEN_OUTAGE_GRACE_SECONDS)
            if remembered is None:
                raise  # the exception handler answers 503
            return remembered
        recent_tokens.remember(key, credentials)
        return credentials
