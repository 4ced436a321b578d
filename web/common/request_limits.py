"""Limits on request bodies that hold before any work is done.

Two checks, both before anything is built from the body:

- Size, per route (`body_limit`): the login routes take a few KB (AUTH_MAX_BODY_BYTES), every
  other route at most REQUEST_MAX_BODY_BYTES. `RequestBodyLimitMiddleware` answers 413 from the
  Content-Length header alone, so an oversized body is never kept (see the middleware for what
  happens to its bytes). Django reads at most Content-Length bytes from the WSGI input, and
  nothing when the header is absent (a chunked body straight to gunicorn); nginx buffers
  chunked bodies and sends a Content-Length.
- Shape, for JSON (`JSONShape`, fed by common.parsers.JSONParser as it reads): nesting depth
  and the number of containers and values, counted on the bytes as they arrive, before
  anything is parsed. A 16 MB `[[],[],...]` is ~5 million empty lists once parsed, ~400 MB of
  Python objects; scanned, it is refused after its first 64 KB, and the rest is never kept.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError

# Login and token routes (DRF's and Django admin's): a username and a password fit in far less.
AUTH_PATH_PREFIXES = ("/api/auth/", "/admin/login/")

# A JSON string, escapes included, or the start of one that runs to the end of the bytes so far:
# matching it whole means no match is ever retried inside a string that a chunk cut short.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:(")|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENERS = frozenset(b"[{")
_DISCARD_CHUNK_BYTES = 64 * 1024


def body_limit(path: str) -> int:
    """The largest body, in bytes, that a request to `path` may carry."""
    if path.startswith(AUTH_PATH_PREFIXES):
        return min(settings.AUTH_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_detail(limit: int) -> str:
    return f"The request body is too large (at most {limit} bytes)."


class RequestBodyLimitMiddleware:
    """413 for a declared Content-Length over the route's limit, before the body is read.

    Whatever part of a body the answer did not need (a refused body, a 401 before parsing, JSON
    refused after its first chunk) is then read and thrown away in small pieces, up to
    REQUEST_MAX_BODY_BYTES: gunicorn drains only 64 KB of an unread body and then closes the
    connection with data unread, which resets it, and nginx, still sending the body, answers
    502 instead of relaying this answer. Nothing of it is kept; a longer body is left unread.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path)
        length = _content_length(request)
        if length > limit:
            response = JsonResponse({"detail": too_large_detail(limit)}, status=413)
        else:
            response = self.get_response(request)
        if length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            _discard_unread_body(request)
        return response


def _discard_unread_body(request: HttpRequest) -> None:
    try:
        while request.read(_DISCARD_CHUNK_BYTES):
            pass
    except (OSError, UnreadablePostError):  # the client went away: nothing left to answer
        pass


def _content_length(request: HttpRequest) -> int:
    # What Django itself does with a missing or malformed header: read nothing.
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class JSONShape:
    """Counts a UTF-8 JSON document's values and depth, fed in chunks of any size.

    Values are counted as opening brackets plus commas: every value but the first of each
    array or object follows a comma, and object keys are paired with their values the same
    way. Brackets and commas inside strings do not count; a string cut by a chunk boundary is
    held back until its end arrives. Malformed documents are counted too (json.loads then
    rejects those that pass).
    """

    def __init__(self, *, max_depth: int, max_values: int) -> None:
        self.max_depth = max_depth
        self.max_values = max_values
        self.values = 0
        self.closers = 0
        self.depth = 0
        self._pending = b""  # an unterminated string, from its opening quote

    def feed(self, chunk: bytes) -> str | None:
        """Why the document is refused, as soon as the bytes so far show it; else None."""
        data = self._pending + chunk
        self._pending = b""

        def drop_string(match: re.Match) -> bytes:
            if match.group(1) is None:  # no closing quote yet
                self._pending = data[match.start() :]
            return b""

        structure = _JSON_STRING.sub(drop_string, data)
        self.values += structure.count(b"[") + structure.count(b"{") + structure.count(b",")
        self.closers += structure.count(b"]") + structure.count(b"}")
        if self.values > self.max_values or self.closers > self.max_values:
            return (
                f"JSON parse error - the document has too many values (at most {self.max_values})."
            )
        # At most 2 * max_values brackets in all, so this loop stays short.
        for bracket in _BRACKET.finditer(structure):
            self.depth += 1 if bracket.group()[0] in _OPENERS else -1
            if self.depth > self.max_depth:
                return (
                    "JSON parse error - the document is nested too deeply "
                    f"(at most {self.max_depth})."
                )
        return None


def json_shape_problem(document: bytes, *, max_depth: int, max_values: int) -> str | None:
    """Why the whole UTF-8 JSON `document` is refused before parsing, or None."""
    return JSONShape(max_depth=max_depth, max_values=max_values).feed(document)
