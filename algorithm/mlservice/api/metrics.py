"""GET /metrics: the API's families merged over every gunicorn worker (no auth: Prometheus
scrapes it on the internal network and nginx does not route it)."""

from flask import Blueprint, Response, current_app
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from mlservice.observability import build_info, metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def export():
    directory = str(current_app.config["SETTINGS"].prometheus_multiproc_dir)
    body = metrics.exposition(directory, metrics.API_METRICS) + build_info.exposition()
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
