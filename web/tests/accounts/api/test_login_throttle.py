"""Password guessing at every login (the token, the admin's, the browsable API's): throttled per
client address and per username in Redis, before the password is checked. The client address is
the one nginx writes last into X-Forwarded-For, never one the client wrote."""

from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
# The host's Redis, in a database of this worktree's own.
REDIS_TEST_URL = "redis://127.0.0.1:6379/2"
NGINX = "172.18.0.9"  # REMOTE_ADDR as web sees it: the proxy's address
CLIENT = "203.0.113.7"


@pytest.fixture(autouse=True)
def login_rates(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_client": "10/min",
            "login_username": "5/min",
        },
    }
    cache.clear()
    yield
    cache.clear()


def via_nginx(client_address: str, claimed: str | None = None) -> dict:
    """What web receives: nginx's address, and X-Forwarded-For ending with the real client
    (after anything the client claimed itself, if nginx appends)."""
    forwarded = client_address if claimed is None else f"{claimed}, {client_address}"
    return {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": forwarded}


def attempt(client, username: str, password: str = "wrong", **meta):  # noqa: S107
    return client.post(TOKEN_URL, {"username": username, "password": password}, **meta)


def test_wrong_passwords_from_one_client_get_429_with_retry_after(anonymous_client, user):
    statuses = [
        attempt(anonymous_client, f"user{i}", **via_nginx(CLIENT)).status_code for i in range(11)
    ]

    assert statuses == [400] * 10 + [429]
    response = attempt(anonymous_client, "user-x", **via_nginx(CLIENT))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"]


def test_another_client_is_not_held_back(anonymous_client, user):
    for i in range(11):
        attempt(anonymous_client, f"user{i}", **via_nginx(CLIENT))

    assert attempt(anonymous_client, "someone", **via_nginx("198.51.100.1")).status_code == 400


def test_a_forged_x_forwarded_for_does_not_escape_the_client_limit(anonymous_client, user):
    statuses = [
        attempt(
            anonymous_client, f"user{i}", **via_nginx(CLIENT, claimed=f"10.0.0.{i}")
        ).status_code
        for i in range(11)
    ]

    assert statuses[-1] == 429


def test_one_username_from_many_clients_gets_429(anonymous_client, user):
    statuses = [
        attempt(anonymous_client, "alice", **via_nginx(f"198.51.100.{i}")).status_code
        for i in range(6)
    ]

    assert statuses == [400] * 5 + [429]
    # Case does not make it another username.
    assert attempt(anonymous_client, "ALICE", **via_nginx("198.51.100.99")).status_code == 429


def test_the_throttle_comes_before_the_password_check(anonymous_client, user):
    with mock.patch("accounts.services.authenticate", wraps=authenticate) as checked:
        for i in range(5):
            attempt(anonymous_client, "alice", **via_nginx(f"198.51.100.{i}"))
        right = attempt(anonymous_client, "alice", "alice-password", **via_nginx("198.51.100.50"))

    assert right.status_code == 429
    assert checked.call_count == 5


@pytest.mark.parametrize("url", ["/admin/login/", "/api/auth/login/"])
def test_the_session_logins_are_throttled_too(url, user):
    client = Client()
    with mock.patch("django.contrib.auth.forms.authenticate", wraps=authenticate) as checked:
        statuses = [
            client.post(
                url, {"username": "alice", "password": "wrong"}, **via_nginx(f"198.51.100.{i}")
            ).status_code
            for i in range(6)
        ]

    assert statuses[:5] == [200] * 5  # the form again, with its error
    assert statuses[5] == 429
    assert checked.call_count == 5
    response = client.post(url, {"username": "alice", "password": "wrong"}, **via_nginx(CLIENT))
    assert response.status_code == 429
    assert response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert client.get(url, **via_nginx(CLIENT)).status_code == 200  # the page itself is not


def test_token_and_admin_logins_share_the_budget(anonymous_client, user):
    for i in range(5):
        Client().post(
            "/admin/login/", {"username": "alice", "password": "x"}, **via_nginx(f"10.1.0.{i}")
        )

    assert attempt(anonymous_client, "alice", **via_nginx("10.1.0.99")).status_code == 429


def rate_limit(response) -> tuple[int, int]:
    return int(response["X-RateLimit-Limit"]), int(response["X-RateLimit-Remaining"])


def test_a_login_answer_shows_the_tightest_login_limit(anonymous_client, user):
    with_username = attempt(anonymous_client, "alice", **via_nginx(CLIENT))
    without = anonymous_client.post(TOKEN_URL, {"password": "x"}, **via_nginx("198.51.100.1"))

    assert rate_limit(with_username) == (5, 4)  # per username 5/min, per client 10/min
    assert rate_limit(without) == (10, 9)  # no username: only the client's limit counts
    assert 0 < int(with_username["X-RateLimit-Reset"]) <= 60


@pytest.mark.parametrize(
    ("url", "encoding"),
    [
        (TOKEN_URL, {"content_type": "application/json"}),
        ("/admin/login/", {}),  # a form
        ("/api/auth/login/", {}),
    ],
)
def test_a_throttled_login_has_the_rate_limit_headers(url, encoding, user):
    client = Client()
    credentials = {"username": "alice", "password": "x"}
    for i in range(5):
        client.post(url, credentials, **encoding, **via_nginx(f"10.2.0.{i}"))

    response = client.post(url, credentials, **encoding, **via_nginx(CLIENT))

    assert response.status_code == 429
    assert rate_limit(response) == (5, 0)
    assert int(response["X-RateLimit-Reset"]) == int(response["Retry-After"])
    assert response.json()["detail"]
