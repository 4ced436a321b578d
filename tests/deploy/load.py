"""A steady load through nginx while a stage is deployed: predictions, reads and writes.

Every answer is kept (kind, status, seconds); a connection error counts as a failure. Writes use
one label per run, so "no row lost" is: the stage holds exactly the rows it answered 201 for.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    seconds: float
    detail: str = ""
    # The connection closed before any answer and the request went once more (see _loop).
    retried: bool = False


@dataclass
class Load:
    base_url: str
    token: str
    ca_file: str
    texts: list[str]
    threads_per_kind: int = 1
    pause: float = 0.02
    label: str = field(default_factory=lambda: f"load-{uuid.uuid4().hex[:8]}")
    outcomes: list[Outcome] = field(default_factory=list)
    created: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, args=(kind, n), daemon=True)
            for kind in ("predict", "ml_predict", "read", "write")
            for n in range(self.threads_per_kind)
        ]

    def _request(self, session: requests.Session, kind: str, n: int, i: int):
        text = self.texts[(n * 7919 + i) % len(self.texts)]
        # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        options = {"verify": self.ca_file, "timeout": 60}
        if kind == "predict":
            return session.post(f"{self.base_url}/api/predict/", json={"text": text}, **options)
        if kind == "ml_predict":
            return session.post(f"{self.base_url}/ml/predict", json={"text": text}, **options)
        if kind == "read":
            return session.get(f"{self.base_url}/api/data/", params={"page_size": 20}, **options)
        body = {"text": f"{text} [{self.label} {n}-{i}]", "label": self.label}
        return session.post(f"{self.base_url}/api/data/", json=body, **options)

    def _loop(self, kind: str, n: int) -> None:
        session = self._session()
        i = 0
        while not self._stop.is_set():
            started = time.monotonic()
            retried = False
            try:
                try:
                    answer = self._request(session, kind, n, i)
                except requests.ConnectionError as error:
                    # A keep-alive connection nginx closed as the request went out (its old
                    # workers close idle connections at a reload): HTTP lets a client send it
                    # again on a new connection (RFC 9112, 9.3.1), as browsers do. Counted; a
                    # write that was in fact processed would show as a duplicate row.
                    if "closed connection without response" not in str(error):
                        raise
                    session, retried = self._session(), True
                    answer = self._request(session, kind, n, i)
                outcome = Outcome(kind, answer.status_code, time.monotonic() - started)
                if answer.status_code >= 300:
                    outcome.detail = answer.text[:300]
                elif kind == "write":
                    with self._lock:
                        self.created.append(answer.json()["id"])
            except requests.RequestException as error:
                outcome = Outcome(kind, 0, time.monotonic() - started, repr(error)[:300])
            outcome.retried = retried
            with self._lock:
                self.outcomes.append(outcome)
            i += 1
            time.sleep(self.pause)

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.token}"
        return session

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not 200 <= o.status < 300]

    def summary(self) -> dict:
        return {
            "requests": len(self.outcomes),
            "by_kind": dict(Counter(o.kind for o in self.outcomes)),
            "failures": len(self.failures),
            "statuses": dict(Counter(o.status for o in self.outcomes)),
            "longest_seconds": round(max((o.seconds for o in self.outcomes), default=0), 3),
            "rows_written": len(self.created),
            "sent_again_after_a_closed_connection": sum(o.retried for o in self.outcomes),
        }
