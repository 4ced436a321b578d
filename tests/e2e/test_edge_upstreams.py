"""The edge when web is down or misbehaves, and exactly what it tells web (issue 12).

Web is stopped for this module. While it is away a stand-in answers at its name: a few lines of
Python that echo the headers nginx sends, and answer the token check with the status the test
asks for, so that what nginx passes to web (client address, method of the checked request) and
what it makes of every answer of the check can be seen from outside."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid

import pytest

from edge import assert_edge_error
from harness import Api

pytestmark = pytest.mark.disruptive

ECHO = r"""
import json, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlsplit, parse_qs

last_check = {}

class Echo(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urlsplit(self.path).path
        status, body = 200, {"method": self.command, "path": self.path, "headers": headers}
        if path == "/api/auth/check/":
            last_check.clear()
            last_check.update(headers)
            wanted = parse_qs(urlsplit(headers.get("x-original-uri", "")).query).get("auth")
            status, body = (int(wanted[0]) if wanted else 200), {}
        elif path == "/api/e2e-echo/last-check":
            body = dict(last_check)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("0.0.0.0", 8000), Echo).serve_forever()
"""


@pytest.fixture(scope="module")
def https(stack) -> bool:
    return stack.https_port is not None


@pytest.fixture(scope="module")
def web_stopped(stack, token):
    stack.compose("stop", "web")
    try:
        yield
    finally:
        stack.up("web")
        Api(stack.base_url, ca_file=stack.ca_file).wait_until_ready()


@pytest.fixture(scope="module")
def echo_web(stack, web_stopped):
    """The stand-in, answering at web's name on the edge network."""
    name = f"{stack.project}-web-echo"
    image = f"textclf-web:{os.environ.get('IMAGE_TAG', 'latest')}"
    stack.run("docker", "rm", "-f", name, check=False)
    stack.run(
        "docker", "run", "-d", "--name", name, *stack.side_container_args(),
        "--network", f"{stack.project}_edge",
        "--network-alias", "web", "--entrypoint", "python", image, "-c", ECHO,
    )  # fmt: skip
    try:
        client = Api(stack.base_url, ca_file=stack.ca_file)
        deadline = time.monotonic() + 60  # nginx re-asks Docker's DNS every 10 s
        while not is_echo(client.get("/api/e2e-echo/ping")):
            assert time.monotonic() < deadline, "nginx never reached the stand-in"
            time.sleep(1)
        yield client
    finally:
        stack.run("docker", "rm", "-f", name, check=False)


def is_echo(response) -> bool:
    try:
        return response.status_code == 200 and "headers" in response.json()
    except ValueError:
        return False


def test_web_down_gives_a_json_503(anonymous, https, web_stopped):
    response = anonymous.get("/api/health/")
    assert_edge_error(response, 503, https=https)
    assert int(response.headers["Retry-After"]) >= 1


def test_web_down_fails_the_token_check_with_a_503_not_a_500(api, https, web_stopped):
    response = api.get("/ml/models")
    body = assert_edge_error(response, 503, https=https)
    assert "token check" in body["detail"]


def test_web_gets_the_connection_address_not_the_clients_claim(stack, echo_web):
    seen = echo_web.get(
        "/api/e2e-echo/headers",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.10"},
    ).json()["headers"]
    address = client_address(stack)
    assert seen["x-forwarded-for"] == address
    assert seen["x-real-ip"] == address
    assert seen["x-forwarded-proto"] == ("https" if stack.https_port else "http")


def test_a_client_cannot_claim_https_over_plain_http(stack, echo_web):
    if stack.https_port:
        pytest.skip("plain HTTP only redirects in the prod overlay")
    seen = echo_web.get("/api/e2e-echo/headers", headers={"X-Forwarded-Proto": "https"}).json()
    assert seen["headers"]["x-forwarded-proto"] == "http"


def test_the_token_check_hears_the_method_and_the_uri(echo_web):
    echo_web.post("/ml/predict?e2e=method", json={"text": "x"})
    check = echo_web.get("/api/e2e-echo/last-check").json()
    assert check["x-original-method"] == "POST"
    assert check["x-original-uri"] == "/ml/predict?e2e=method"


@pytest.mark.parametrize(("check_status", "status"), [(401, 401), (403, 403), (500, 503)])
def test_every_answer_of_the_token_check_becomes_a_json_error(
    echo_web, https, check_status, status
):
    response = echo_web.get(f"/ml/models?auth={check_status}")
    assert_edge_error(response, status, https=https)


def test_a_trusted_proxy_may_name_the_client(stack, echo_web):
    """With TRUSTED_PROXY_RANGES naming the address this test connects from (as a TLS proxy in
    front of nginx would), its X-Forwarded-For and X-Forwarded-Proto are believed."""
    proxy = client_address(stack)
    trusting = dataclasses.replace(stack, env={**stack.env, "TRUSTED_PROXY_RANGES": f"{proxy}/32"})
    trusting.compose("up", "-d", "--no-deps", "--wait", "nginx")
    try:
        request_id = f"e2e-proxied-{uuid.uuid4().hex}"
        seen = echo_web.get(
            "/api/e2e-echo/headers",
            headers={
                "X-Request-ID": request_id,
                "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
                "X-Forwarded-Proto": "https",
            },
        ).json()["headers"]
        assert seen["x-forwarded-for"] == "203.0.113.9"  # the proxy's word, nothing before it
        assert seen["x-forwarded-proto"] == "https"
        assert logged_address(stack, request_id) == "203.0.113.9"
    finally:
        stack.compose("up", "-d", "--no-deps", "--wait", "nginx")


def client_address(stack) -> str:
    """The address nginx sees this test's connections come from (Docker's gateway)."""
    request_id = f"e2e-whoami-{uuid.uuid4().hex}"
    Api(stack.base_url, ca_file=stack.ca_file).get(
        "/no/such/thing", headers={"X-Request-ID": request_id}
    )
    return logged_address(stack, request_id)


def logged_address(stack, request_id: str) -> str:
    (line,) = stack.lines_with("nginx", request_id)
    return json.loads(line[line.find("{") :])["remote_addr"]
