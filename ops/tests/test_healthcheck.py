import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from textclf_ops import healthcheck


class Answers(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = {
            "/ready": (200, {"status": "ok"}),
            "/starting": (503, {"status": "unavailable"}),
            "/odd": (200, {"status": "degraded"}),
            "/text": (200, "not json"),
        }.get(self.path, (404, {}))
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_ready_service_is_healthy(base_url):
    assert healthcheck.check_url(f"{base_url}/ready") is None
    assert healthcheck.main([f"{base_url}/ready", "--timeout", "2"]) == 0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/starting", "503"),
        ("/odd", "unexpected body"),
        ("/text", "Expecting value"),
        ("/x", "404"),
    ],
)
def test_anything_else_is_unhealthy_with_the_reason(base_url, path, reason, capsys):
    assert reason in healthcheck.check_url(f"{base_url}{path}")
    assert healthcheck.main([f"{base_url}{path}"]) == 1
    assert capsys.readouterr().err.startswith("unhealthy: ")


def test_nothing_listening_is_unhealthy():
    assert "127.0.0.1:1" in healthcheck.check_url("http://127.0.0.1:1/ready", timeout=1)


def test_a_fresh_heartbeat_is_healthy(tmp_path):
    beat = tmp_path / "heartbeat"
    beat.touch()
    assert healthcheck.check_file_age(beat, max_age=60) is None
    assert healthcheck.main(["--file", str(beat)]) == 0


def test_a_stale_or_missing_heartbeat_is_not(tmp_path):
    beat = tmp_path / "heartbeat"
    assert "no heartbeat file" in healthcheck.check_file_age(beat, max_age=60)
    beat.touch()
    stale = time.time() - 61
    os.utime(beat, (stale, stale))
    assert "old" in healthcheck.check_file_age(beat, max_age=60)
    assert healthcheck.main(["--file", str(beat), "--max-age", "60"]) == 1


def test_a_target_is_required():
    with pytest.raises(SystemExit):
        healthcheck.main([])
