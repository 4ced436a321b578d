"""The edge's limits and error answers: what an attacker gets from nginx before any service
reads a byte (issue 12)."""

from __future__ import annotations

import contextlib
import json
import ssl
import time
import uuid

import pytest
import requests

from edge import assert_edge_error, parse, raw_exchange

AUTH_ROUTES = ["/api/auth/token/", "/admin/login/", "/api/auth/login/"]
# NGINX_CONN_PER_CLIENT's default, and a few more.
CONN_PER_CLIENT = 50
STALLED = CONN_PER_CLIENT + 5


@pytest.fixture(scope="module")
def https(stack) -> bool:
    return stack.https_port is not None


def nginx_log_entries(stack, request_id: str) -> list[dict]:
    entries = []
    for line in stack.lines_with("nginx", request_id):
        start = line.find("{")
        entries.append(json.loads(line[start:]))
    return entries


def nested_json(size: int) -> bytes:
    """The body that once cost web hundreds of MiB (SECURITY.md): `[[],[],...]`, `size` bytes."""
    count = (size - 1) // 3
    return b"[" + b"[]," * (count - 1) + b"[]]"


@pytest.mark.parametrize("path", AUTH_ROUTES)
def test_a_body_over_the_auth_limit_is_refused_before_web_reads_it(stack, anonymous, https, path):
    request_id = f"e2e-auth-body-{uuid.uuid4().hex}"
    response = anonymous.post(
        path,
        data=nested_json(64 * 1024),
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    assert_edge_error(response, 413, https=https)
    assert response.headers["X-Request-ID"] == request_id
    assert [entry["status"] for entry in nginx_log_entries(stack, request_id)] == [413]
    assert not stack.lines_with("web", request_id, timeout=2), "web saw the request"


def test_the_measured_16_mb_login_body_is_refused_at_the_edge(stack, anonymous, https):
    request_id = f"e2e-auth-16mb-{uuid.uuid4().hex}"
    response = anonymous.post(
        "/api/auth/token/",
        data=nested_json(16 * 1024 * 1024),
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    assert_edge_error(response, 413, https=https)
    assert not stack.lines_with("web", request_id, timeout=2), "web saw the request"


def test_a_login_still_fits_under_the_auth_limit(anonymous):
    response = anonymous.post("/api/auth/token/", json={"username": "nobody", "password": "x"})
    assert response.status_code == 400, response.text  # web's answer: wrong credentials


def test_other_routes_keep_the_general_limit(anonymous, api, https):
    # Over the auth limit but far under the general one: web reads it and answers itself.
    rows = [{"text": "x" * 100, "label": "x"}] * 200
    passed = anonymous.post("/api/data/", json=rows)
    assert passed.status_code == 401, passed.text  # web's: no token
    too_large = api.post(
        "/api/data/", data=b"[" + b" " * (17 * 1024 * 1024) + b"]",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert_edge_error(too_large, 413, https=https)


def test_a_stalled_body_loses_its_connection(stack):
    # nginx's default would wait 60 s; NGINX_CLIENT_BODY_TIMEOUT is 10 s.
    head = (
        b"POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username"'
    )
    answer = raw_exchange(stack, head, timeout=40)
    assert answer is None or answer.status_code == 408, answer


def test_a_stalled_header_loses_its_connection(stack):
    answer = raw_exchange(stack, b"GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n", timeout=40)
    assert answer is None or answer.status_code == 408, answer


def test_requests_at_once_per_client_are_limited(stack, anonymous, https):
    stalled = []
    try:
        for _ in range(STALLED):
            sock = stack.connect(timeout=30)
            # A body nginx waits for: the request is in progress, holding a slot.
            sock.sendall(
                b"POST /static/e2e-stall HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Length: 1000\r\n\r\nx"
            )
            stalled.append(sock)
        # The requests past the limit are answered at once; the others wait for their bodies.
        refused = first_answer(stalled, timeout=8)
        assert refused is not None, "no request past the limit was refused"
        probe = anonymous.get("/api/health/live")  # while the others still hold their slots
    finally:
        for sock in stalled:
            with contextlib.suppress(OSError):
                sock.close()
    for response in (refused, probe):
        body = assert_edge_error(response, 429, https=https)
        assert "at once" in body["detail"]
        assert int(response.headers["Retry-After"]) >= 1
    # Once those requests are gone, the client is served again.
    deadline = time.monotonic() + 10
    while anonymous.get("/api/health/live").status_code != 200:
        assert time.monotonic() < deadline, "still refused after closing the stalled requests"
        time.sleep(0.5)


def first_answer(socks, *, timeout: float):
    """The first HTTP answer any of `socks` receives within `timeout` (a TLS socket can be
    readable with no answer in it: TLS 1.3 session tickets come after the handshake)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sock in socks:
            sock.settimeout(0.05)
            try:
                data = sock.recv(65536)
            except (TimeoutError, ssl.SSLError, OSError):
                continue
            if data.startswith(b"HTTP/"):
                return parse(data)
    return None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/flower/api/task/async-apply/mlservice.worker.train"),
        ("POST", "/flower/api/worker/shutdown/celery@anything"),
        ("POST", "/flower/api/worker/pool/restart/celery@anything"),
        ("POST", "/flower/api/task/revoke/00000000-0000-0000-0000-000000000000"),
        ("PUT", "/flower/api/workers"),
        ("DELETE", "/flower/api/workers"),
    ],
)
def test_flowers_write_api_is_not_reachable_through_the_edge(
    anonymous, ops_auth, https, method, path
):
    response = anonymous.request(method, path, auth=ops_auth, json={"args": []})
    body = assert_edge_error(response, 405, https=https)
    assert body["detail"] == "Method not allowed here."
    assert response.headers["Allow"] == "GET, HEAD"


def test_flower_can_still_be_read(anonymous, ops_auth):
    assert anonymous.get("/flower/api/workers", auth=ops_auth).status_code == 200


def test_a_client_supplied_forwarded_for_does_not_change_its_address(stack, anonymous):
    request_id = f"e2e-xff-{uuid.uuid4().hex}"
    response = anonymous.get(
        "/api/health/live",
        headers={
            "X-Request-ID": request_id,
            "X-Forwarded-For": "203.0.113.9",
            "X-Real-IP": "203.0.113.10",
        },
    )
    assert response.status_code == 200
    (entry,) = nginx_log_entries(stack, request_id)
    assert entry["remote_addr"] not in ("203.0.113.9", "203.0.113.10"), entry


@pytest.mark.parametrize(
    ("name", "request_bytes", "status"),
    [
        ("duplicate Host", b"GET /api/health/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("no Host", b"GET /api/health/ HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        ("bad request line", b"GET\x01 / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (
            "URI too long",
            b"GET /api/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            414,
        ),
        (
            "header too large",
            b"GET /api/health/ HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
            400,
        ),
    ],
)
def test_malformed_requests_get_a_json_error(stack, https, name, request_bytes, status):
    answer = raw_exchange(stack, request_bytes)
    assert answer is not None, f"{name}: closed without an answer"
    assert_edge_error(answer, status, https=https)


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        ("/prometheus/-/ready", None, 401),
        ("/prometheus/-/ready", ("e2e-ops", "wrong"), 401),
        ("/no/such/thing", None, 404),
        ("/metrics", None, 404),
    ],
)
def test_nginx_errors_are_json_with_the_security_headers(anonymous, https, path, auth, status):
    assert_edge_error(anonymous.get(path, auth=auth), status, https=https)


def test_a_refused_token_on_the_ml_prefix_is_json_with_the_security_headers(stack, https):
    session = requests.Session()
    response = session.get(
        stack.base_url + "/ml/models", headers={"Authorization": "Token " + "0" * 40}, timeout=30
    )
    assert_edge_error(response, 401, https=https)
