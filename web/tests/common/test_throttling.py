"""Throttling per token in fixed windows counted in Redis, failing open when Redis is down."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import cache

from common.throttling import RedisWindowCounter

pytestmark = pytest.mark.django_db

URL = "/api/data/"
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


def redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def rates(settings):
    def set_rates(user: str, anon: str = "1000/min") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "anon": anon},
        }

    return set_rates


@pytest.fixture
def real_redis(settings):
    """The host's Redis (a database of its own), emptied before and after."""
    settings.CACHES = redis_cache(REDIS_TEST_URL)
    cache.clear()
    yield
    cache.clear()


def test_over_the_rate_is_429_with_a_detail(api_client, rates, real_redis):
    rates(user="3/min")

    statuses = [api_client.get(URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = api_client.get(URL)
    assert response.json()["detail"].startswith("Request was throttled.")
    assert int(response["Retry-After"]) > 0


def test_each_token_has_its_own_budget(api_client, staff_client, rates, real_redis):
    rates(user="2/min")
    for _ in range(2):
        api_client.get(URL)

    assert api_client.get(URL).status_code == 429
    assert staff_client.get(URL).status_code == 200


def test_anonymous_calls_are_throttled_per_client(anonymous_client, rates, real_redis):
    rates(user="1000/min", anon="2/min")
    # nginx's auth check of an /ml/ route that needs no token.
    health = {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URI": "/ml/health"}

    answers = [anonymous_client.get("/api/auth/check/", **health) for _ in range(3)]

    # For nginx's auth_request, which passes on only 401 and 403: a 403 with Retry-After, which
    # nginx answers as a 429.
    assert [answer.status_code for answer in answers] == [204, 204, 403]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1]["X-RateLimit-Remaining"] == "0"


def test_health_is_never_throttled(anonymous_client, rates, real_redis):
    rates(user="1/min", anon="1/min")

    assert {anonymous_client.get("/api/health/live").status_code for _ in range(5)} == {200}


def test_redis_down_fails_open_and_is_logged(api_client, rates, settings, closed_port, caplog):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{closed_port}/0")
    rates(user="1/min")

    with caplog.at_level(logging.WARNING, logger="textclf_ops.throttle"):
        statuses = [api_client.get(URL).status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert [record.getMessage() for record in caplog.records if "Throttle cache" in record.msg]


def test_the_production_cache_settings_fail_fast(settings, closed_port):
    """The configured backend itself (not the test one) raises quickly instead of hanging."""
    from redis import RedisError

    from config.settings import base

    settings.CACHES = {
        "default": {**base.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}
    }

    with pytest.raises(RedisError):
        cache.get("anything")


def test_retry_after_is_what_is_left_of_the_window(api_client, rates, real_redis):
    rates(user="1/hour")
    api_client.get(URL)

    response = api_client.get(URL)

    assert response.status_code == 429
    assert 3590 <= int(response["Retry-After"]) <= 3600


def test_a_new_window_opens_when_the_old_one_ends(api_client, rates, real_redis):
    rates(user="1/sec")
    assert [api_client.get(URL).status_code for _ in range(2)] == [200, 429]

    time.sleep(2.1)  # Redis expires a key within a second of its TTL

    assert api_client.get(URL).status_code == 200


def test_concurrent_requests_are_each_counted_once(real_redis):
    counter = RedisWindowCounter(REDIS_TEST_URL, {})

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: counter.hit("concurrent", 60)[0], range(200)))

    assert sorted(counts) == list(range(1, 201))


def test_a_dropped_connection_fails_one_call_and_the_next_reconnects(real_redis):
    counter = RedisWindowCounter(REDIS_TEST_URL, {"client_name": "throttle-dropped"})
    assert counter.hit("dropped", 60)[0] == 1
    admin = redis.Redis.from_url(REDIS_TEST_URL)
    (address,) = [c["addr"] for c in admin.client_list() if c["name"] == "throttle-dropped"]
    admin.client_kill(address)

    with pytest.raises(redis.ConnectionError):
        counter.hit("dropped", 60)

    assert counter.hit("dropped", 60)[0] == 2


def rate_limit_headers(response) -> tuple[int, int, int]:
    return tuple(int(response[f"X-RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset"))


def test_every_answer_says_where_the_caller_stands(api_client, rates, real_redis):
    rates(user="3/min")

    answers = [rate_limit_headers(api_client.get(URL)) for _ in range(3)]

    assert [(limit, remaining) for limit, remaining, _ in answers] == [(3, 2), (3, 1), (3, 0)]
    assert all(0 < reset <= 60 for _, _, reset in answers)


def test_a_429_has_the_headers_retry_after_and_a_detail(api_client, rates, real_redis):
    rates(user="1/hour")
    api_client.get(URL)

    response = api_client.get(URL)

    assert response.status_code == 429
    limit, remaining, reset = rate_limit_headers(response)
    assert (limit, remaining) == (1, 0)
    assert 3590 <= reset <= 3600
    assert int(response["Retry-After"]) == reset
    assert response.json()["detail"]


def test_the_tightest_throttle_speaks(anonymous_client, rates, real_redis):
    """An anonymous call counts in the per-client "user" and "anon" rates alike."""
    rates(user="1000/min", anon="5/min")
    health = {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URI": "/ml/health"}

    response = anonymous_client.get("/api/auth/check/", **health)

    assert response.status_code == 204
    assert rate_limit_headers(response)[:2] == (5, 4)


def test_unthrottled_views_send_no_rate_limit_headers(anonymous_client, rates, real_redis):
    rates(user="1/min", anon="1/min")

    response = anonymous_client.get("/api/health/live")

    assert "X-RateLimit-Limit" not in response


def test_no_headers_while_the_throttle_fails_open(api_client, rates, settings, closed_port):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{closed_port}/0")
    rates(user="1/min")

    response = api_client.get(URL)

    assert response.status_code == 200
    assert "X-RateLimit-Remaining" not in response
