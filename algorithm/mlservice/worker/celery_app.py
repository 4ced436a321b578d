"""The Celery app, configured from the same Settings as the Flask app (Flask's Celery pattern).

Redis is only the broker: job state lives in Postgres, so there is no result backend and results
are ignored. Enqueueing is bounded (connect and socket timeouts, at most one quick publish retry)
so a dead Redis turns POST /train into a 503 within a few seconds instead of a hang.

Reliability: a message is acknowledged only after its task ran (acks_late) and is requeued if the
pool process dies under it (reject_on_worker_lost); each worker process reserves one message at
a time and runs one task before it is replaced (so a task's peak RSS is its own). Redis
redelivers an unacknowledged message after the visibility timeout, set above the hard time
limit so that a long training is never delivered twice while it still runs.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from kombu import Exchange, Queue

from mlservice.config import Settings

TRAIN_TASK = "mlservice.train_model"
ACTIVATE_TASK = "mlservice.activate_model"
TRAINING_QUEUE = "training"
CONTROL_QUEUE = "control"
QUEUES = (TRAINING_QUEUE, CONTROL_QUEUE)


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


# Longer than the training task's hard time limit (60 min), see the module docstring.
VISIBILITY_TIMEOUT_SECONDS = 70 * 60


def celery_config(settings: Settings) -> dict:
    timeout = settings.broker_connect_timeout
    broker_url = settings.celery_broker_url.get_secret_value()
    return {
        "broker_url": broker_url,
        # Celery lets a CELERY_BROKER_URL environment variable override broker_url; pinning the
        # read and write URLs keeps Settings (which already read that variable) the one source.
        "broker_read_url": broker_url,
        "broker_write_url": broker_url,
        "broker_connection_timeout": timeout,
        "broker_transport_options": {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout * 2,
            # The publish path's own connection retries; the worker reconnects on its own.
            "max_retries": 1,
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
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
        # Long training runs and quick control tasks (model activation) never share a queue.
        "task_default_queue": TRAINING_QUEUE,
        # One direct exchange per queue: Celery would otherwise bind every queue to the
        # default exchange and routing key, and a message would reach all of them.
        "task_queues": tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES),
        "task_routes": {
            TRAIN_TASK: {"queue": TRAINING_QUEUE},
            ACTIVATE_TASK: {"queue": CONTROL_QUEUE},
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_max_tasks_per_child": 1,
        # Task events feed Flower (and its flower_* metrics).
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "accept_content": ["json"],
        # Don't reserve a second message while a task runs: another worker (or the other pool
        # process, e.g. for `control`) can take it.
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "imports": ("mlservice.worker.tasks",),
        # Read by heartbeat.HeartbeatFile, the worker's healthcheck bootstep.
        "mlservice_heartbeat_file": str(settings.worker_heartbeat_file),
    }
