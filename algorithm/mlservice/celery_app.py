"""The Celery app, configured from the same Settings as the Flask app (Flask's Celery pattern).

Redis is only the broker: job state lives in Postgres, so there is no result backend and results
are ignored. Enqueueing is bounded (connect and socket timeouts, at most one quick publish retry)
so a dead Redis turns POST /train into a 503 within a few seconds instead of a hang.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from mlservice.config import Settings


def celery_init_app(app: Flask) -> Celery:
    settings: Settings = app.config["SETTINGS"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(celery_config(settings))
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def celery_config(settings: Settings) -> dict:
    timeout = settings.broker_connect_timeout
    return {
        "broker_url": settings.celery_broker_url,
        # Celery lets a CELERY_BROKER_URL environment variable override broker_url; pinning the
        # read and write URLs keeps Settings (which already read that variable) the one source.
        "broker_read_url": settings.celery_broker_url,
        "broker_write_url": settings.celery_broker_url,
        "broker_connection_timeout": timeout,
        "broker_transport_options": {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout * 2,
            # The publish path's own connection retries; the worker reconnects on its own.
            "max_retries": 1,
        },
        # The worker keeps retrying to reach Redis at start-up (compose may start it first).
        "broker_connection_retry_on_startup": True,
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 0.5,
        },
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # One long job at a time: don't reserve a second message while training.
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "imports": ("mlservice.tasks",),
        # Read by heartbeat.HeartbeatFile, the worker's healthcheck bootstep.
        "mlservice_heartbeat_file": str(settings.worker_heartbeat_file),
    }
