"""Per-request bookkeeping: the request id, the log context and the RED metrics.

The request id comes from nginx / the web gateway (X-Request-ID) or is minted here; it is bound
to every log line of the request, echoed in the response and handed to Celery with any task the
request queues, so one grep follows a request from nginx to the worker.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request

from mlservice.observability import metrics

REQUEST_ID_HEADER = "X-Request-ID"
SERVICE = "algorithm"
# Ids from upstream are kept if they look like ids (nginx: 32 hex digits); anything else, e.g.
# an attempt to inject text into log lines, is replaced.
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def current_request_id() -> str | None:
    return g.get("request_id")


def start_request() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _REQUEST_ID_PATTERN.match(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.request_id
    # Label values stay bounded: the route template, never the raw path.
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method if request.method in _KNOWN_METHODS else "OTHER"
    metrics.HTTP_REQUESTS.labels(SERVICE, method, route, str(response.status_code)).inc()
    metrics.HTTP_REQUEST_DURATION.labels(SERVICE, method, route).observe(
        time.perf_counter() - g.request_started
    )
    return response


def init_app(app: Flask) -> None:
    # First of the before_request hooks, so that 401s are counted and carry an id too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
