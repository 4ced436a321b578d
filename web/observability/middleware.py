import time
from collections.abc import Callable

import sentry_sdk
from django.http import HttpRequest, HttpResponse
from textclf_ops.http_metrics import http_request_observe
from textclf_ops.request_id import HEADER, request_id_bind

from observability import SERVICE
from observability.metrics import metrics_response, route_template

METRICS_PATH = "/metrics"


class RequestIdMiddleware:
    """Binds X-Request-ID (the caller's, or a new one) for the logs, Sentry and the ML client,
    and echoes it on the response. First in MIDDLEWARE, so every later log line has it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_bind(incoming=request.headers.get(HEADER))
        sentry_sdk.set_tag("request_id", request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


class MetricsMiddleware:
    """Records RED metrics for every response and answers GET /metrics (no auth).

    /metrics is answered here, before SecurityMiddleware and CommonMiddleware: Prometheus
    scrapes `web:8000` over plain HTTP on the internal network, a host name that is not (and
    should not be) in ALLOWED_HOSTS, and the exposition builds no URL from the Host header.
    nginx never routes /metrics from outside.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == METRICS_PATH:
            return metrics_response()
        started = time.perf_counter()
        # Exceptions never get here: Django turns them into a 500 response further in.
        response = self.get_response(request)
        http_request_observe(
            service=SERVICE,
            method=request.method,
            route=route_template(request),
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
