"""Per-token (and per-client for anonymous calls) request rates, kept in the Redis cache.

Throttling protects the API; it must never take it down. If Redis cannot be reached the
request is let through (fail open), logged, and the cache is not tried again for a few
seconds, so an outage costs at most one short socket timeout per process now and then.
"""

import logging
import threading
import time

from redis import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

# After a cache failure, requests skip the throttle for this long.
CACHE_RETRY_AFTER_SECONDS = 5.0


class _CacheCircuit:
    """Whether the throttle cache failed recently (per process, shared by its threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._down_until

    def trip(self, exc: Exception) -> None:
        with self._lock:
            if self.is_open():
                return
            self._down_until = time.monotonic() + CACHE_RETRY_AFTER_SECONDS
        logger.warning(
            "Throttle cache unavailable, requests are not throttled for %.0f s: %s",
            CACHE_RETRY_AFTER_SECONDS,
            exc,
        )

    def reset(self) -> None:
        with self._lock:
            self._down_until = 0.0


cache_circuit = _CacheCircuit()


class _FailOpenMixin:
    def get_rate(self) -> str | None:
        # DRF binds the rates when its module is imported; read them per request instead,
        # so an overridden setting (tests) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if cache_circuit.is_open():
            return True
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            cache_circuit.trip(exc)
            return True


class UserRateThrottle(_FailOpenMixin, throttling.UserRateThrottle):
    """DRF_THROTTLE_USER per authenticated user (one token per user)."""


class AnonRateThrottle(_FailOpenMixin, throttling.AnonRateThrottle):
    """DRF_THROTTLE_ANON per client address for unauthenticated calls (token login)."""
