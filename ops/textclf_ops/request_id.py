"""The id that follows one request through nginx, web, the ML API and the Celery worker.

It lives in structlog's context variables (one context per gunicorn thread), so every log line
of the request carries it, and the web service's ML client forwards it without being handed it.
"""

from __future__ import annotations

import re
import uuid

import structlog

HEADER = "X-Request-ID"
# nginx's rule (nginx/templates/default.conf.template): a caller's id is kept only if it matches;
# anything else, e.g. an attempt to inject text into log lines, is replaced, never echoed.
PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_accept(incoming: str | None) -> str:
    """The caller's id if well formed, else a new one (32 hex digits, like nginx's)."""
    return incoming if incoming and PATTERN.fullmatch(incoming) else uuid.uuid4().hex


def request_id_bind(*, incoming: str | None) -> str:
    """Start a request's log context with the caller's id if well formed, else a new one."""
    request_id = request_id_accept(incoming)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def request_id_current() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")
