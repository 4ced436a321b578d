"""Fixed-window request counters in Redis, for the throttles of both services.

web decides who is counted and at what rate (its DRF throttles, common.throttling); the ML API
counts the predictions nginx sends it straight from the public route in the very same counters
(the key and the rate come from web's token check), so both doors draw on one budget.

A fixed window per caller: the first request starts a window of the rate's period, and at most
the rate's number of requests pass until it ends. One INCR (a Lua script that also sets the
expiry) per request, whatever the rate.

Throttling protects the API; it must never take it down. If Redis cannot be reached the request
is let through (fail open), logged, and Redis is not tried again for a few seconds
(CacheCircuit), so an outage costs at most one short socket timeout per process now and then.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis
from redis import RedisError

logger = logging.getLogger(__name__)

# web's token check for the public predict route names the caller's budget in this header;
# nginx hands it on to the ML API (set there by nginx, never taken from the client).
EDGE_BUDGET_HEADER = "X-Edge-Budget"
# Its value for a caller no throttle counts (the user rate unset).
UNTHROTTLED = "none"

# After a cache failure, requests skip the throttle for this long.
CACHE_RETRY_AFTER_SECONDS = 5.0

# KEYS[1]: the window's counter; ARGV[1]: the window in seconds. Returns {count, seconds left}.
HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""


class CacheCircuit:
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

    def hit(self, counter: WindowCounter, key: str, window: int) -> tuple[int, int] | None:
        """`counter.hit(key, window)`, or None (the request goes through) while the circuit is
        open or when the counter fails, which opens it."""
        if self.is_open():
            return None
        try:
            return counter.hit(key, window)
        except RedisError as exc:
            self.trip(exc)
            return None


class WindowCounter(Protocol):
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one request in `key`'s window: (requests so far, seconds until it ends)."""


class RedisWindowCounter:
    """One round trip per request, on a connection each thread keeps for itself.

    gunicorn's threads live as long as their process, so they need no pool to share
    connections: redis-py's client and pool (locking, a health check, the retry wrapper) cost
    the call several times the instructions of the thread's own connection (BENCHMARKS.md).
    """

    def __init__(self, location: str, options: dict) -> None:
        # Only a factory here: it turns the URL and options into each thread's connection.
        self._connections = redis.ConnectionPool.from_url(location, **options)
        self._local = threading.local()

    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one request in `key`'s window: (requests so far, seconds until it ends)."""
        connection = self._connection()
        try:
            # EVAL rather than EVALSHA: Redis finds the script it has cached by the text's
            # hash, and a restarted Redis (with an empty script cache) needs no second call.
            connection.send_command("EVAL", HIT_SCRIPT, 1, key, window)
            count, ttl = connection.read_response()
        except RedisError:
            connection.disconnect()  # reconnect on the next call, after the circuit's pause
            raise
        return int(count), max(int(ttl), 1)

    def _connection(self) -> redis.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connections.make_connection()
        return connection


@dataclass(frozen=True)
class RateLimit:
    """Where a caller stands in one throttle's current window."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True)
class Budget:
    """One caller's counter and rate, as web's token check hands them on:
    `<key> <requests> <window seconds>` (a key holds no spaces: web builds it from an id)."""

    key: str
    limit: int
    window: int

    def header(self) -> str:
        return f"{self.key} {self.limit} {self.window}"

    def standing(self, count: int, seconds_left: int) -> RateLimit:
        """Where the caller stands after `count` calls in this window."""
        return RateLimit(self.limit, max(self.limit - count, 0), seconds_left)

    @classmethod
    def parse(cls, value: str) -> Budget | None:
        parts = value.split(" ")
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        limit, window = int(parts[1]), int(parts[2])
        if limit < 1 or window < 1:
            return None
        return cls(parts[0], limit, window)
