"""Light background traffic through nginx while a fault is injected, with every call recorded.

One thread loops over a CRUD cycle (create, read, update, delete one row) and a prediction, a few
requests a second, as a consumer token. Tests then ask what happened in a time window: which
statuses, which model versions, how long the calls took.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests

REQUEST_TIMEOUT = 30.0
PAUSE_SECONDS = 0.25


@dataclass(frozen=True)
class Call:
    op: str  # create | read | update | delete | predict
    started: float  # time.monotonic()
    finished: float
    status: int | None  # None: no HTTP answer (timeout, connection error)
    model_version: str | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.finished - self.started


class BackgroundLoad:
    def __init__(self, base_url: str, token: str, texts: list[str]) -> None:
        self.base_url = base_url
        self.texts = texts
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Pausing: the loop waits at the top of a cycle while _paused, and says so with _idle.
        self._pausing = threading.Condition()
        self._paused = False
        self._idle = False
        self._thread = threading.Thread(target=self._run, name="background-load", daemon=True)

    def start(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT + 5)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No traffic inside the block, and no row of ours left in the table (a cycle deletes
        the row it created before the loop pauses), so a row count is exact."""
        with self._pausing:
            self._paused = True
            if not self._pausing.wait_for(lambda: self._idle, timeout=5 * REQUEST_TIMEOUT):
                self._paused = False
                raise RuntimeError("the background load did not pause")
        try:
            yield
        finally:
            with self._pausing:
                self._paused = False
                self._pausing.notify_all()

    def calls(
        self, op: str | None = None, *, since: float = 0.0, until: float = float("inf")
    ) -> list[Call]:
        """Calls of `op` (all ops if None) that started within [since, until]."""
        with self._lock:
            calls = list(self._calls)
        return [c for c in calls if (op is None or c.op == op) and since <= c.started <= until]

    def summary(self, *, since: float = 0.0, until: float = float("inf")) -> dict[str, dict]:
        """Per op: how many calls, their statuses, the slowest one (seconds)."""
        result: dict[str, dict] = {}
        for call in self.calls(since=since, until=until):
            entry = result.setdefault(call.op, {"calls": 0, "statuses": {}, "max_seconds": 0.0})
            entry["calls"] += 1
            key = str(call.status)
            entry["statuses"][key] = entry["statuses"].get(key, 0) + 1
            entry["max_seconds"] = round(max(entry["max_seconds"], call.seconds), 3)
        return result

    # -- the loop

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            with self._pausing:
                while self._paused and not self._stop.is_set():
                    self._idle = True
                    self._pausing.notify_all()
                    self._pausing.wait(0.5)
                self._idle = False
            text = self.texts[n % len(self.texts)]
            n += 1
            created = self._call("create", "POST", "/api/data/", {"text": text, "label": "chaos"})
            row_id = created.get("id") if isinstance(created, dict) else None
            if row_id is not None:
                self._call("read", "GET", f"/api/data/{row_id}/")
                self._call("update", "PATCH", f"/api/data/{row_id}/", {"label": "chaos-updated"})
                self._call("delete", "DELETE", f"/api/data/{row_id}/")
            self._call("predict", "POST", "/api/predict/", {"text": text})
            self._stop.wait(PAUSE_SECONDS)

    def _call(self, op: str, method: str, path: str, body: dict | None = None):
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, json=body, timeout=REQUEST_TIMEOUT
            )
        except requests.RequestException as exc:
            self._record(Call(op, started, time.monotonic(), None, error=type(exc).__name__))
            return None
        finished = time.monotonic()
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
        version = payload.get("model_version") if isinstance(payload, dict) else None
        detail = payload.get("detail") if isinstance(payload, dict) else None
        self._record(Call(op, started, finished, response.status_code, version, detail))
        return payload if response.ok else None

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)
