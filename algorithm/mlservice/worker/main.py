"""Worker entry point (also Flower's app):

celery -A mlservice.worker.main worker --queues=training,control --concurrency=2 --loglevel=INFO
celery -A mlservice.worker.main flower
"""

import structlog

from mlservice import create_app
from mlservice.observability import build_info
from mlservice.worker.celery_app import QUEUES
from mlservice.worker.heartbeat import HeartbeatFile

flask_app = create_app(service="worker")
celery_app = flask_app.extensions["celery"]
celery_app.steps["consumer"].add(HeartbeatFile)

# Imported once create_app has prepared the metrics directory (signals imports metrics).
from mlservice.worker import signals as worker_signals  # noqa: E402

worker_signals.install(flask_app.config["SETTINGS"], QUEUES)
structlog.get_logger(__name__).info("release", **build_info.release())
