"""A stand-in for Sentry's ingest endpoint: a local HTTP server that records envelopes.

The SDK under test gets the DSN http://public@127.0.0.1:<port>/1 and POSTs (gzip-compressed)
envelopes to /api/1/envelope/; `events()` returns the decoded event items received so far.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SentryStub:
    def __init__(self) -> None:
        self.raw_bodies: list[bytes] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                stub.raw_bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self._server.server_port}/1"

    def __enter__(self) -> SentryStub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._thread.join()

    def events(self) -> list[dict[str, Any]]:
        return [
            item
            for body in list(self.raw_bodies)
            for item_type, item in _envelope_items(body)
            if item_type == "event"
        ]

    def wait_for_event(self, predicate, *, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no matching event within {timeout} s; got {self.events()!r}")


def _envelope_items(body: bytes):
    """(type, payload) of each item: header line, then item header + payload pairs."""
    _, _, rest = body.partition(b"\n")
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :].lstrip(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        try:
            yield header.get("type"), json.loads(payload)
        except ValueError:
            yield header.get("type"), payload
