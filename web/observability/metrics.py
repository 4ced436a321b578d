"""The web service's side of the shared HTTP metrics (textclf_ops.http_metrics): which route a
Django request matched, and the exposition.

Multiprocess-correct under gunicorn: with PROMETHEUS_MULTIPROC_DIR set (before this module is
imported, i.e. in the container's environment), each worker writes its samples to files there
and the exposition aggregates every worker's files. The gunicorn hooks (textclf_ops.gunicorn_conf)
wipe the directory when the master starts and mark dead workers.
"""

import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from textclf_ops import build_info
from textclf_ops.http_metrics import UNMATCHED
from textclf_ops.http_metrics import route_template as route_as_template

# Feedback per model version (data.services.feedback_create). Bounded: a version is counted only
# once the ML service has confirmed it exists, and versions come only from staff trainings.
FEEDBACK = Counter(
    "textclf_feedback",
    "Feedback received on predictions, by model version and whether the prediction was right.",
    ["model_version", "correct"],
)

STATIC_ROUTE = "/static/{path}"


def route_template(request: HttpRequest) -> str:
    """The matched URL pattern as an OpenAPI-style template, e.g. "/api/data/{id}/"."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        # whitenoise answers static files before URL resolution.
        return STATIC_ROUTE if request.path.startswith(settings.STATIC_URL) else UNMATCHED
    return route_as_template(match.route)


def metrics_response() -> HttpResponse:
    """The Prometheus exposition: every gunicorn worker's samples, whichever worker answers."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + build_info.exposition()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
