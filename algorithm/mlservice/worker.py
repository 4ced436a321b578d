"""Worker entry point (also Flower's app):

celery -A mlservice.worker worker --queues=training,control --concurrency=2 --loglevel=INFO
celery -A mlservice.worker flower
"""

import structlog

from mlservice import build_info, create_app
from mlservice.celery_app import QUEUES
from mlservice.heartbeat import HeartbeatFile

flask_app = create_app(service="worker")
celery_app = flask_app.extensions["celery"]
celery_app.steps["consumer"].add(HeartbeatFile)

# Imported once create_app has prepared the metrics directory (worker_signals imports metrics).
from mlservice import worker_signals  # noqa: E402

worker_signals.install(flask_app.config["SETTINGS"], QUEUES)
structlog.get_logger(__name__).info("release", **build_info.release())
