"""The prod overlay's TLS: nginx terminates it with the certificate it was given, sends plain
HTTP over to HTTPS, sends HSTS, and web sees https (issue 12)."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from edge import assert_edge_error, raw_exchange


@pytest.fixture(autouse=True)
def prod_only(profile):
    if profile != "prod":
        pytest.skip("a promise of docker-compose.prod.yml")


def test_the_certificate_served_is_the_one_given(stack):
    sock = stack.connect(timeout=10)  # verified against the run's certificate, and its name
    try:
        served = ssl.DER_cert_to_PEM_cert(sock.getpeercert(binary_form=True))
    finally:
        sock.close()
    with open(stack.ca_file) as handle:
        assert served.split() == handle.read().split()


def test_an_unknown_certificate_authority_is_refused_by_clients(stack):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(stack.base_url + "/healthz", verify=requests.certs.where(), timeout=10)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_plain_http_is_redirected_to_https_keeping_the_method(stack, method):
    response = requests.request(
        method, stack.http_url + "/api/health/?x=1", allow_redirects=False, timeout=10
    )
    assert response.status_code == 308
    assert response.headers["Location"] == stack.base_url + "/api/health/?x=1"


def test_plain_http_still_answers_the_edge_health(stack):
    response = requests.get(stack.http_url + "/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_https_answers_carry_hsts(anonymous):
    response = anonymous.get("/api/health/")
    assert response.status_code == 200
    # nginx's, alone: web's own copy is hidden so that there is one.
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_on_the_https_port_gets_a_json_400(stack):
    sock = socket.create_connection(("127.0.0.1", stack.https_port), 10)
    try:
        sock.sendall(b"GET /api/health/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    assert b'"detail"' in data
    assert b"X-Content-Type-Options: nosniff" in data


def test_web_sees_https(api, loaded_corpus):
    response = api.get("/api/data/", params={"page_size": 1})
    assert response.status_code == 200, response.text
    # Built by Django from the request: https only if it believed nginx's X-Forwarded-Proto.
    assert response.json()["next"].startswith(api.base_url + "/api/data/"), response.json()


def test_errors_over_https_carry_hsts(anonymous):
    assert_edge_error(anonymous.get("/no/such/thing"), 404, https=True)


def test_a_malformed_request_over_https_gets_a_json_400(stack):
    answer = raw_exchange(stack, b"GET /api/health/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert answer is not None
    assert_edge_error(answer, 400, https=True)


def test_nginx_alone_can_read_its_key(stack):
    result = stack.exec("nginx", "stat", "-c", "%a %U", "/etc/nginx/tls/tls.key")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["400", "nginx"]
