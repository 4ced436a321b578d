"""RED metrics of the HTTP API (names shared with the algorithm service and the dashboards).

Multiprocess-correct under gunicorn: with PROMETHEUS_MULTIPROC_DIR set (before this module is
imported, i.e. in the container's environment), each worker writes its samples to files there
and the exposition aggregates every worker's files. gunicorn.conf.py wipes the directory when
the master starts and marks dead workers.
"""

import os
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from observability import SERVICE, build_info

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Feedback per model version (data.services.feedback_create). Bounded: a version is counted only
# once the ML service has confirmed it exists, and versions come only from staff trainings.
FEEDBACK = Counter(
    "textclf_feedback",
    "Feedback received on predictions, by model version and whether the prediction was right.",
    ["model_version", "correct"],
)

UNMATCHED = "unmatched"
STATIC_ROUTE = "/static/{path}"
# Anything else a client sends as a method becomes "other": labels stay a bounded set.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def http_request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(SERVICE, method, route, str(status)).inc()
    HTTP_REQUEST_DURATION.labels(SERVICE, method, route).observe(seconds)


def route_template(request: HttpRequest) -> str:
    """The matched URL pattern as an OpenAPI-style template, e.g. "/api/data/{id}/".

    Never the raw path (unbounded label values). `pk` reads as `id`, as in the OpenAPI schema.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        # whitenoise answers static files before URL resolution.
        return STATIC_ROUTE if request.path.startswith(settings.STATIC_URL) else UNMATCHED
    return route_as_template(match.route)


def route_as_template(route: str) -> str:
    """ "api/^data/(?P<pk>[0-9]+)/$" or "api/train/<uuid:job_id>/" -> "/api/data/{id}/"..."""
    route = _NAMED_GROUP.sub(r"{\1}", route)
    route = _CONVERTER.sub(r"{\1}", route).replace("{pk}", "{id}")
    return "/" + route.replace("^", "").replace("$", "").replace("\\", "")


def metrics_response() -> HttpResponse:
    """The Prometheus exposition: every gunicorn worker's samples, whichever worker answers."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + build_info.exposition()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
