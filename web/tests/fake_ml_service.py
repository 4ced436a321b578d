"""A stand-in for the ML service: a real HTTP server on a loopback port, answering what each
test registers. The client under test opens real connections to it (keep-alive, timeouts,
resets), so nothing inside the client is patched.

    ml_service.post(f"{ml_url}/predict", json={...}, status=200, match=[json_body_is({...})])
    ml_service.add_callback("POST", re.compile(...), callback)  # callback(request) -> answer
    ml_service.calls[0].headers["X-Service-Token"]

A request no registration matches is answered 501 and fails the test, as does (with
`assert_all_requests_are_fired`) a registration never called.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json import dumps  # `add` has a parameter named json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

# A callback's answer: (status, headers, body), or RESET to drop the connection unanswered.
Answer = tuple[int, dict[str, str], str | bytes]
RESET = object()


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str  # the fake's base URL + path + query, as registrations are written
    headers: Message  # case-insensitive lookups, like the real thing
    body: bytes

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


def json_body_is(expected: Any) -> Callable[[RecordedRequest], bool]:
    return lambda request: request.json() == expected


@dataclass
class _Route:
    method: str
    url: str | re.Pattern[str]
    answer: Callable[[RecordedRequest], Answer | object]
    match: list[Callable[[RecordedRequest], bool]] = field(default_factory=list)
    called: bool = False

    def matches(self, request: RecordedRequest) -> bool:
        if request.method != self.method:
            return False
        if isinstance(self.url, re.Pattern):
            found = self.url.match(request.url) is not None
        elif "?" in self.url:  # the query must be the same parameters
            want, got = urlsplit(self.url), urlsplit(request.url)
            found = want.path == got.path and sorted(parse_qsl(want.query)) == sorted(
                parse_qsl(got.query)
            )
        else:
            found = self.url == request.url.split("?", 1)[0]
        return found and all(check(request) for check in self.match)


class FakeMLService:
    def __init__(self, *, assert_all_requests_are_fired: bool = True) -> None:
        self.assert_all_requests_are_fired = assert_all_requests_are_fired
        self.calls: list[RecordedRequest] = []
        self.unmatched: list[RecordedRequest] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval: shutdown() waits for the loop's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeMLService:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        if exc_info[0] is not None:
            return
        if self.unmatched:
            pytest.fail(f"Unexpected calls to the ML service: {self.unmatched}")
        never = [route for route in self._routes if not route.called]
        if self.assert_all_requests_are_fired and never:
            pytest.fail(f"Registered but never called: {[(r.method, r.url) for r in never]}")

    def add(
        self,
        method: str,
        url: str | re.Pattern[str],
        *,
        json: Any = None,
        body: str | bytes = "",
        status: int = 200,
        match: list[Callable[[RecordedRequest], bool]] | None = None,
        delay: float = 0.0,
        reset: bool = False,
    ) -> None:
        """Answer `method url` with `json` (or the raw `body`), after `delay` seconds; or drop
        the connection without answering (`reset`)."""
        payload = dumps(json) if json is not None else body
        headers = {"Content-Type": "application/json"} if json is not None else {}

        def answer(request: RecordedRequest) -> Answer | object:
            time.sleep(delay)
            return RESET if reset else (status, headers, payload)

        self._routes.append(_Route(method, url, answer, list(match or [])))

    def get(self, url: str | re.Pattern[str], **kwargs) -> None:
        self.add("GET", url, **kwargs)

    def post(self, url: str | re.Pattern[str], **kwargs) -> None:
        self.add("POST", url, **kwargs)

    def add_callback(
        self,
        method: str,
        url: str | re.Pattern[str],
        callback: Callable[[RecordedRequest], Answer],
    ) -> None:
        self._routes.append(_Route(method, url, callback))

    def _answer(self, request: RecordedRequest) -> Answer | object:
        with self._lock:
            self.calls.append(request)
            route = next((route for route in self._routes if route.matches(request)), None)
            if route is None:
                self.unmatched.append(request)
                return 501, {}, "no registration matches this request"
            route.called = True
        return route.answer(request)


def _handler_for(fake: FakeMLService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's pool expects

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                url=f"{fake.url}{self.path}",
                headers=self.headers,
                body=self.rfile.read(length),
            )
            answer = fake._answer(request)
            if answer is RESET:
                self.close_connection = True
                return
            status, headers, body = answer
            content = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            for name, value in {"Content-Type": "text/plain", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format, *args) -> None:
            pass

    return Handler
