"""Per-request bookkeeping: the request id, the log context and the RED metrics.

The request id comes from nginx / the web gateway (X-Request-ID) or is minted here; it is bound
to every log line of the request, echoed in the response and handed to Celery with any task the
request queues, so one grep follows a request from nginx to the worker.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from textclf_ops.http_metrics import http_request_observe, route_template
from textclf_ops.request_id import HEADER, request_id_bind

SERVICE = "algorithm"


def current_request_id() -> str | None:
    return g.get("request_id")


def start_request() -> None:
    g.request_id = request_id_bind(incoming=request.headers.get(HEADER))
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    response.headers[HEADER] = g.request_id
    http_request_observe(
        service=SERVICE,
        method=request.method,
        route=route_template(request.url_rule.rule if request.url_rule is not None else None),
        status=response.status_code,
        seconds=time.perf_counter() - g.request_started,
    )
    return response


def init_app(app: Flask) -> None:
    # First of the before_request hooks, so that 401s are counted and carry an id too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
