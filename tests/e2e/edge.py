"""What every answer nginx makes itself must carry, and a raw HTTP exchange for the requests no
HTTP client library would send."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import requests

from harness import Stack

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


@dataclass(frozen=True)
class RawResponse:
    status_code: int
    headers: requests.structures.CaseInsensitiveDict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def assert_edge_error(response, status: int, *, https: bool) -> dict:
    """`response` (a requests.Response or a RawResponse) is nginx's JSON error `status`, with the
    security headers and a request id; returns the JSON body."""
    headers = response.headers
    assert response.status_code == status, (response.status_code, headers, response.text[:500])
    assert headers["Content-Type"].startswith("application/json"), headers
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers)
    assert headers.get("X-Request-ID"), headers
    if https:
        assert headers.get("Strict-Transport-Security", "").startswith("max-age="), headers
    return body


def raw_exchange(stack: Stack, request: bytes, *, timeout: float = 30) -> RawResponse | None:
    """Send `request` as is and read until nginx closes the connection; None if it closed (or
    reset) it without an answer."""
    sock = stack.connect(timeout=timeout)
    try:
        sock.sendall(request)
        data = read_until_closed(sock)
    finally:
        sock.close()
    return parse(data) if data else None


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; socket.timeout if it never does."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes) -> RawResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = requests.structures.CaseInsensitiveDict()
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return RawResponse(status_code=int(status_line.split()[1]), headers=headers, body=body)
