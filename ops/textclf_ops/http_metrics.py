"""RED metrics of an HTTP API, under the names the dashboards and alerts use, in both services.

Label values stay a bounded set: the route is the matched URL pattern written as an OpenAPI-style
template (never the raw path), and a method outside the usual seven is counted as OTHER.
Imports prometheus-client: in multiprocess mode, PROMETHEUS_MULTIPROC_DIR must be set before this
module is first imported (see multiproc).
"""

from __future__ import annotations

import re

from textclf_ops import multiproc

# The directory the environment names must exist before the first sample is written.
multiproc.ensure_configured_directory()

from prometheus_client import Counter, Histogram  # noqa: E402

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching the app to its response, by method and route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

UNMATCHED = "unmatched"
OTHER_METHOD = "OTHER"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def method_label(method: str | None) -> str:
    return method if method in METHODS else OTHER_METHOD


def route_template(pattern: str | None) -> str:
    """A URL pattern as a template: Django's "api/^data/(?P<pk>[0-9]+)/$" or
    "api/train/<uuid:job_id>/" and Flask's "/models/<version>" become "/api/data/{id}/",
    "/api/train/{job_id}/" and "/models/{version}"; no pattern (no route matched) is
    "unmatched". `pk` reads as `id`, as in the OpenAPI schema."""
    if pattern is None:
        return UNMATCHED
    route = _NAMED_GROUP.sub(r"{\1}", pattern)
    route = _CONVERTER.sub(r"{\1}", route).replace("{pk}", "{id}")
    return "/" + route.replace("^", "").replace("$", "").replace("\\", "").lstrip("/")


def http_request_observe(
    *, service: str, method: str | None, route: str, status: int, seconds: float
) -> None:
    method = method_label(method)
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_REQUEST_DURATION.labels(service, method, route).observe(seconds)
