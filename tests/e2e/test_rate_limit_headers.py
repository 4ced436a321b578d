"""The rate-limit headers a client sees through nginx: web's on every answer of a throttled view
(/ml/ included, whose calls web's token check counts) and on its 429s, nginx's on the 429s of its
limit_req (the login 429 is in test_login_throttle.py, nginx's limit_conn 429 in
test_edge_limits.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from edge import assert_edge_error
from harness import Api

# The defaults: DRF_THROTTLE_USER and _ANON, and NGINX_API_RATE (50r/s: 50 a second, one more
# every 1/50 s).
USER_LIMIT = 6000
ANON_LIMIT = 600
NGINX_API_LIMIT = 50
# Under NGINX_CONN_PER_CLIENT (50): requests in progress at once never meet limit_conn.
SENDERS = 40
MAX_REQUESTS = 5000


@pytest.fixture(scope="module")
def https(stack) -> bool:
    return stack.https_port is not None


def rate_limit(response) -> tuple[int, int, int]:
    return tuple(
        int(response.headers[f"X-RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset")
    )


def test_every_answer_of_the_api_says_where_the_token_stands(api):
    first = api.get("/api/data/?page_size=1")
    second = api.get("/api/models/")

    assert first.status_code == second.status_code == 200, (first.text, second.text)
    limit, remaining, reset = rate_limit(first)
    assert limit == USER_LIMIT
    assert 0 <= remaining < USER_LIMIT
    assert 0 < reset <= 60
    assert rate_limit(second)[0] == USER_LIMIT
    assert "Retry-After" not in first.headers


def test_ml_answers_carry_the_headers_of_webs_token_check(api, https):
    response = api.get("/ml/models")

    assert response.status_code == 200, response.text
    limit, remaining, reset = rate_limit(response)
    assert (limit, 0 < reset <= 60) == (USER_LIMIT, True)
    assert 0 <= remaining < USER_LIMIT
    # The location's own add_header did not cost it the security headers.
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Request-ID"]


def test_webs_throttle_on_ml_is_a_429_with_its_headers(anonymous, https):
    """Anonymous calls of /ml/health/live until web's per-client rate (DRF_THROTTLE_ANON) is spent:
    its token check says 403 with Retry-After (all nginx's auth_request passes on), and nginx
    answers 429. nginx's own 429s on the way (its ML rate) are waited out."""
    for _ in range(ANON_LIMIT * 2):
        response = anonymous.get("/ml/health/live")
        if response.status_code != 429:
            assert response.status_code == 200, response.text
            continue
        if int(response.headers["X-RateLimit-Limit"]) == ANON_LIMIT:
            break
        time.sleep(int(response.headers["Retry-After"]))  # nginx's limit_req
    else:
        raise AssertionError("web never throttled /ml/health/live")

    body = assert_edge_error(response, 429, https=https)
    assert "Too many requests" in body["detail"]
    limit, remaining, reset = rate_limit(response)
    assert (limit, remaining) == (ANON_LIMIT, 0)
    assert int(response.headers["Retry-After"]) == reset
    # Wait for the window to end: the other tests' anonymous /ml/ calls need it.
    time.sleep(reset + 1)
    assert anonymous.get("/ml/health/live").status_code == 200


def test_nginx_limit_req_429_has_the_rate_limit_headers(stack, anonymous, https):
    """Requests from many threads at once until the per-client rate of /api/ is spent; the
    health check is not throttled by web, so every 429 here is nginx's."""
    refused: list = []
    sent = 0
    lock = threading.Lock()

    def send(api: Api) -> None:
        nonlocal sent
        while True:
            with lock:
                if refused or sent >= MAX_REQUESTS:
                    return
                sent += 1
            response = api.get("/api/health/live", timeout=30)
            if response.status_code == 429:
                with lock:
                    refused.append(response)

    senders = [Api(stack.base_url, ca_file=stack.ca_file) for _ in range(SENDERS)]
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, senders))

    assert refused, f"no 429 in {sent} requests"
    response = refused[0]
    body = assert_edge_error(response, 429, https=https)
    assert body["detail"] == "Too many requests; slow down."
    assert rate_limit(response) == (NGINX_API_LIMIT, 0, 1)
    assert response.headers["Retry-After"] == "1"
    # A second later the client is served again.
    deadline = time.monotonic() + 10
    while anonymous.get("/api/health/live").status_code != 200:
        assert time.monotonic() < deadline, "still refused"
        time.sleep(0.5)
