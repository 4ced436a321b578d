"""A fake textclf server on httpx.MockTransport: the boundary the CLI owns is its HTTP client."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from textclf_cli.client import Client
from textclf_cli.importer import StateStore


class Crash(BaseException):
    """The client process dying mid-request (not an Exception: nothing may catch it)."""


class FakeServer:
    """Just enough of /api/data/: all-or-nothing bulk POST with per-index errors, the
    label/search filter with a count (a search's capped at `search_count_cap`, as the server's
    DATA_SEARCH_COUNT_CAP does), and keyset pages."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.posts = 0
        self.crash_before_commit_on_post: int | None = None
        self.crash_after_commit_on_post: int | None = None
        self.reject_marker = "SERVER-REJECT"
        self.search_count_cap = 1000

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        query = {
            key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()
        }
        if url.path == "/api/data/" and request.method == "POST":
            return self._post(json.loads(request.content))
        if url.path == "/api/data/" and request.method == "GET":
            return self._get(query)
        return httpx.Response(404, json={"detail": "Not found."})

    def _post(self, items: list[dict[str, str]]) -> httpx.Response:
        self.posts += 1
        if self.posts == self.crash_before_commit_on_post:
            raise Crash()
        errors = {
            str(index): {"text": ["Ensure this field has no more than 10 characters."]}
            for index, item in enumerate(items)
            if self.reject_marker in item["text"]
        }
        if errors:
            return httpx.Response(400, json={"detail": "Invalid input", "errors": errors})
        self.rows.extend(items)
        if self.posts == self.crash_after_commit_on_post:
            raise Crash()
        return httpx.Response(201, json=items)

    def _get(self, query: dict[str, str]) -> httpx.Response:
        if "cursor" in query:
            start = int(query["cursor"] or 0)
            size = int(query.get("page_size", 1000))
            page = self.rows[start : start + size]
            following = start + size if start + size < len(self.rows) else None
            next_link = (
                f"http://elsewhere/api/data/?cursor={following}&page_size={size}"
                if following is not None
                else None
            )
            return httpx.Response(200, json={"next": next_link, "previous": None, "results": page})
        matching = [
            row
            for row in self.rows
            if row["label"] == query.get("label", row["label"])
            and query.get("search", "").lower() in row["text"].lower()
        ]
        count, exact = len(matching), True
        if query.get("search") and count > self.search_count_cap:
            count, exact = self.search_count_cap, False
        return httpx.Response(
            200, json={"count": count, "count_exact": exact, "results": matching[:1]}
        )


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def client(server) -> Client:
    return Client("http://textclf.test", "token", transport=httpx.MockTransport(server.handle))


@pytest.fixture
def store(tmp_path) -> StateStore:
    return StateStore(tmp_path / "state")
