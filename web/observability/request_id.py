"""The id that follows one request through nginx, web, the ML API and the Celery worker.

It lives in structlog's context variables (one context per gunicorn thread), so every log
line of the request carries it and the ML client can forward it without being handed it.
"""

import re
import uuid

import structlog

HEADER = "X-Request-ID"
# What nginx accepts from clients too; anything else is replaced, never echoed.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_bind(*, incoming: str | None) -> str:
    """Start a request's log context with the caller's id if well formed, else a new one."""
    request_id = incoming if incoming and _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def request_id_current() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")
