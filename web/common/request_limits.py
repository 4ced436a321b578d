"""Limits on request bodies that hold before any work is done.

Two checks, both before anything is built from the body:

- Size, per route (`body_limit`): the login routes take a few KB (AUTH_MAX_BODY_BYTES), every
  other route at most REQUEST_MAX_BODY_BYTES. `RequestBodyLimitMiddleware` answers 413 from the
  Content-Length header alone, so an oversized body is never read. Django reads at most
  Content-Length bytes from the WSGI input, and nothing when the header is absent (a chunked
  body straight to gunicorn); nginx buffers chunked bodies and sends a Content-Length.
- Shape, for JSON (`json_shape_problem`, called by common.parsers.JSONParser): nesting depth and
  the number of containers and values, counted on the text before it is parsed. A 16 MB
  `[[],[],...]` is ~5 million empty lists once parsed, ~400 MB of Python objects; counted on the
  text it is one regex and a few `str.count` calls over a buffer the request already holds.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# Login and token routes (DRF's and Django admin's): a username and a password fit in far less.
AUTH_PATH_PREFIXES = ("/api/auth/", "/admin/login/")

# A JSON string, escapes included; what is left once strings are removed is the structure.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def body_limit(path: str) -> int:
    """The largest body, in bytes, that a request to `path` may carry."""
    if path.startswith(AUTH_PATH_PREFIXES):
        return min(settings.AUTH_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_detail(limit: int) -> str:
    return f"The request body is too large (at most {limit} bytes)."


class RequestBodyLimitMiddleware:
    """413 for a declared Content-Length over the route's limit, before the body is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path)
        if _content_length(request) > limit:
            return JsonResponse({"detail": too_large_detail(limit)}, status=413)
        return self.get_response(request)


def _content_length(request: HttpRequest) -> int:
    # What Django itself does with a missing or malformed header: read nothing.
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def json_shape_problem(document: str, *, max_depth: int, max_values: int) -> str | None:
    """Why the JSON `document` is refused before it is parsed, or None if it may be parsed.

    Values are counted as opening brackets plus commas: every value but the first of each
    array or object follows a comma, and object keys are paired with their values the same
    way. The count holds for malformed documents too (json.loads then rejects them).
    """
    structure = _JSON_STRING.sub("", document)
    containers = structure.count("[") + structure.count("{")
    closers = structure.count("]") + structure.count("}")
    values = containers + structure.count(",")
    if values > max_values or closers > max_values:
        return f"JSON parse error - the document has too many values (at most {max_values})."
    depth = 0
    # At most 2 * max_values brackets are left, so this loop is short.
    for bracket in _BRACKET.finditer(structure):
        depth = depth + 1 if bracket.group() in "[{" else depth - 1
        if depth > max_depth:
            return f"JSON parse error - the document is nested too deeply (at most {max_depth})."
    return None
