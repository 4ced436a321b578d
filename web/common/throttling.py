"""Per-token (and per-client for anonymous calls) request rates, counted in Redis.

A fixed window per caller: the first request starts a window of the rate's period, and at most
the rate's number of requests pass until it ends. With Redis as the cache this is one INCR (a
Lua script that also sets the expiry) per request, whatever the rate. DRF's own throttle keeps
the timestamp of every request of the period in one pickled list that it reads and rewrites on
each request: at 6,000/min that is thousands of floats per call, and two calls that race lose
one of their entries.

Every answer of a throttled view says where its caller stands, in the de-facto standard headers
(GitHub's, Twitter's): X-RateLimit-Limit (requests per window), X-RateLimit-Remaining, and
X-RateLimit-Reset in seconds until the window ends (delta seconds, as Retry-After and the IETF
draft's RateLimit-Reset: no dependence on the client's clock). Of several throttles the tightest
speaks: the one with the fewest requests left, on a tie the one that resets last. A 429 also has
DRF's Retry-After and JSON detail (the exception handler).

Throttling protects the API; it must never take it down. If Redis cannot be reached the
request is let through (fail open), logged, and Redis is not tried again for a few seconds, so
an outage costs at most one short socket timeout per process now and then.
"""

import functools
import hashlib
import logging
import math
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions, throttling
from rest_framework.settings import api_settings
from textclf_ops.throttle import (
    Budget,
    CacheCircuit,
    RateLimit,
    RedisWindowCounter,
    WindowCounter,
)

logger = logging.getLogger(__name__)

cache_circuit = CacheCircuit()


class CacheWindowCounter:
    """Any other Django cache (the tests' local-memory one): add + incr, the window's full
    length as the wait."""

    def hit(self, key: str, window: int) -> tuple[int, int]:
        cache.add(key, 0, timeout=window)
        try:
            return cache.incr(key), window
        except ValueError:  # expired between add and incr: a new window
            cache.set(key, 1, timeout=window)
            return 1, window


@functools.lru_cache(maxsize=4)
def _counter_for(backend: str, location: str, options: tuple) -> WindowCounter:
    if backend == f"{RedisCache.__module__}.{RedisCache.__name__}":
        return RedisWindowCounter(location, dict(options))
    return CacheWindowCounter()


def window_counter() -> WindowCounter:
    """The counter for the configured default cache, built once per process and setting."""
    config = settings.CACHES["default"]
    return _counter_for(
        config["BACKEND"],
        config.get("LOCATION", ""),
        tuple(sorted(config.get("OPTIONS", {}).items())),
    )


def _record(request, rate_limit: RateLimit) -> None:
    """Keep the tightest rate limit seen for this request, on Django's request (a DRF Request
    wraps it) where the middleware finds it."""
    http_request = getattr(request, "_request", request)
    current = getattr(http_request, "rate_limit", None)
    if current is None or (rate_limit.remaining, -rate_limit.reset) < (
        current.remaining,
        -current.reset,
    ):
        http_request.rate_limit = rate_limit


class RateLimitHeadersMiddleware:
    """Puts the X-RateLimit-* headers of the request's tightest throttle on its answer, whatever
    view (DRF's or the login views outside it) counted the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for name, value in rate_limit.headers().items():
                response[name] = value
        return response


class ThrottledForAuthRequest(exceptions.PermissionDenied):
    """A throttled call to a view that answers nginx's auth_request, as a 403 with Retry-After:
    auth_request passes on only 401 and 403 (any other status is an error, a 503 to the client).
    nginx turns it into the client's 429 (json_error_locations.conf, /_edge/error/ml-403)."""

    default_detail = "Request was throttled."
    default_code = "throttled"

    def __init__(self, wait: float | None) -> None:
        super().__init__()
        # DRF's exception handler sends it as Retry-After.
        self.wait = None if wait is None else math.ceil(wait)


class _FixedWindowMixin:
    scope: str
    cache_format = "textclf-web:throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str | None:
        # DRF binds the rates when its module is imported; read them per request instead,
        # so an overridden setting (tests) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        budget = Budget(key, self.num_requests, self.duration)
        counted = cache_circuit.hit(window_counter(), key, self.duration)
        if counted is None:
            return True
        count, self.seconds_left = counted
        _record(request, budget.standing(count, self.seconds_left))
        return count <= self.num_requests

    def wait(self) -> float:
        return self.seconds_left


class UserRateThrottle(_FixedWindowMixin, throttling.UserRateThrottle):
    """DRF_THROTTLE_USER per authenticated user (one token per user)."""


def user_budget(request, view) -> Budget | None:
    """The counter and rate UserRateThrottle would count this authenticated request in, for a
    door that counts it itself: the ML API, when nginx sends it a prediction straight from the
    public route. None when the rate is off (DRF_THROTTLE_USER unset)."""
    throttle = UserRateThrottle()
    if throttle.rate is None:
        return None
    key = throttle.get_cache_key(request, view)
    return None if key is None else Budget(key, throttle.num_requests, throttle.duration)


class AnonRateThrottle(_FixedWindowMixin, throttling.AnonRateThrottle):
    """DRF_THROTTLE_ANON per client address for unauthenticated calls."""


# Password guessing. Both count every attempt (right or wrong) before the password is hashed:
# throttles run before the view, and the admin's login view asks `login_wait` first. The
# username one also slows a guesser that spreads over many addresses; its price is that such a
# guesser can hold one user's password login off for a minute at a time (tokens keep working).


class LoginClientThrottle(_FixedWindowMixin, throttling.SimpleRateThrottle):
    """LOGIN_THROTTLE_CLIENT per client address (DRF's get_ident with NUM_PROXIES)."""

    scope = "login_client"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_FixedWindowMixin, throttling.SimpleRateThrottle):
    """LOGIN_THROTTLE_USERNAME per username tried, whoever tries it."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        username = _username_tried(request)
        if not username:
            return None
        # Hashed: a bounded key, whatever was sent; folded, so "Admin" counts as "admin".
        ident = hashlib.sha256(username.casefold().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _username_tried(request) -> str | None:
    # A DRF request's parsed JSON, or a Django request's form (the admin's login page).
    data = request.data if hasattr(request, "data") else request.POST
    username = data.get("username") if isinstance(data, Mapping) else None
    return username if isinstance(username, str) else None


LOGIN_THROTTLES = (LoginClientThrottle, LoginUsernameThrottle)


def login_wait(request) -> float | None:
    """For views outside DRF: None if this login attempt may go on, else the seconds to wait.
    Counts the attempt in every login throttle, as DRF's own check does."""
    waits = []
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait())
    return max(waits) if waits else None
