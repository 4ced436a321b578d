"""Worker entry point: `celery -A mlservice.worker worker --concurrency=1 --loglevel=INFO`."""

from mlservice import create_app
from mlservice.heartbeat import HeartbeatFile

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.steps["consumer"].add(HeartbeatFile)
