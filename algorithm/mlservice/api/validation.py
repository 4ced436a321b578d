"""Request-body parsing and the shared text rules, raising ApiError with a clear detail."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from mlservice.api.errors import ApiError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body() -> Any:
    """The decoded JSON body (any JSON value)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "A JSON request body is required.")
    if not request.is_json:
        raise ApiError(415, "Send JSON with Content-Type: application/json.")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"Invalid JSON body: {exc}.") from None


def json_object(*, allowed: set[str], allow_empty_body: bool = False) -> dict[str, Any]:
    """A JSON object body without unknown fields; an empty body counts as {} if allowed."""
    if allow_empty_body and not request.get_data(cache=True).strip():
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(
            400,
            f"Unknown field(s): {', '.join(unknown)}.",
            errors={name: ["Unknown field."] for name in unknown},
        )
    return body


def text_error(value: Any, *, max_length: int) -> str | None:
    """Why `value` is not an acceptable text, or None if it is."""
    if not isinstance(value, str):
        return "Must be a string."
    if "\x00" in value:
        return "Must not contain NUL characters."
    if not value.strip():
        return "Must not be empty or whitespace only."
    if len(value) > max_length:
        return f"Must be at most {max_length} characters (got {len(value)})."
    return None


def limit_param(maximum: int) -> int:
    """`?limit=`: a positive integer, capped at `maximum` (also its default); else a 400."""
    raw = request.args.get("limit")
    if raw is None:
        return maximum
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ApiError(
            400,
            "limit must be a positive integer.",
            errors={"limit": ["Must be a positive integer."]},
        )
    return min(limit, maximum)
