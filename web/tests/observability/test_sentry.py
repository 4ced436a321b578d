"""An exception raised in a view reaches Sentry (a local stand-in for its ingest endpoint)
with the environment and release, and without credentials or cookies."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

WEB_DIR = Path(__file__).resolve().parents[2]


class IngestHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), IngestHandler)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def events(envelopes: list[tuple[str, bytes]]) -> list[dict]:
    """The "event" items of Sentry envelopes (newline-separated JSON: header, item header,
    payload, ...)."""
    found = []
    for _, body in envelopes:
        lines = body.split(b"\n")
        for index in range(1, len(lines) - 1):
            try:
                item_header = json.loads(lines[index])
            except ValueError:
                continue
            if isinstance(item_header, dict) and item_header.get("type") == "event":
                found.append(json.loads(lines[index + 1]))
    return found


def run_probe(sentry_ingest, **environ_extra: str) -> subprocess.CompletedProcess:
    port = sentry_ingest.server_address[1]
    environ = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    environ.update(
        SENTRY_DSN=f"http://public@127.0.0.1:{port}/1",
        SENTRY_ENVIRONMENT="sentry-test",
        SENTRY_RELEASE="textclf@test-release",
        DJANGO_SETTINGS_MODULE="config.settings.test",
        **environ_extra,
    )
    return subprocess.run(
        [sys.executable, "-m", "tests.observability.sentry_probe"],
        cwd=WEB_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_exception_in_a_view_is_reported_without_pii(sentry_ingest):
    result = run_probe(sentry_ingest)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "500 Internal Server Error"
    assert sentry_ingest.envelopes, "no envelope reached the stand-in ingest server"
    assert all(path == "/api/1/envelope/" for path, _ in sentry_ingest.envelopes)
    [event] = events(sentry_ingest.envelopes)
    assert event["exception"]["values"][-1]["type"] == "ProbeError"
    assert event["environment"] == "sentry-test"
    assert event["release"] == "textclf@test-release"
    assert event["tags"]["request_id"] == "sentry-probe-request"
    assert event["request"]["url"] == "http://testserver/api/boom/"
    raw = b"".join(body for _, body in sentry_ingest.envelopes)
    assert b"secret-token-value" not in raw
    assert b"secret-cookie-value" not in raw
    headers = {name.lower(): value for name, value in event["request"]["headers"].items()}
    assert headers["authorization"] == "[Filtered]"
    assert headers["cookie"] == "[Filtered]"
    assert "cookies" not in event["request"]
    assert "user" not in event


# No spaces: it must be findable verbatim in a query string too.
USER_TEXT = "confidential-user-text-" + "to-classify-7f3a"


def test_a_request_text_reaches_sentry_nowhere(sentry_ingest):
    """The text is in the body, the query string and a local variable of the failing view."""
    result = run_probe(sentry_ingest, SENTRY_PROBE_TEXT=USER_TEXT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "500 Internal Server Error"
    [event] = events(sentry_ingest.envelopes)
    assert event["exception"]["values"][-1]["type"] == "ProbeError"
    assert event["request"]["method"] == "POST"
    raw = b"".join(body for _, body in sentry_ingest.envelopes)
    assert USER_TEXT.encode() not in raw
    assert "data" not in event["request"]
    assert "query_string" not in event["request"]
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames
    assert not any("vars" in frame for frame in frames)
