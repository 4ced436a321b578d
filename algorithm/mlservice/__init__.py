"""The ML service: a Flask API that queues training and serves predictions.

`create_app` follows the Flask tutorial's factory: settings from the environment (or the given
Settings), logging, error reporting, metrics, blueprints, JSON error handlers, the database CLI
and the Celery app. The worker builds the same app (service="worker") for its settings, task
context and Celery configuration.
"""

from __future__ import annotations

import structlog
from flask import Flask

from mlservice.config import Settings


def create_app(config: Settings | None = None, *, service: str = "algorithm") -> Flask:
    settings = config or Settings.from_env()

    from textclf_ops import logs, multiproc

    from mlservice.observability import sentry

    logs.configure(
        service=service,
        level=settings.log_level,
        fmt=settings.log_format,
        # Not in the Celery worker: its pool processes end with os._exit, which skips the
        # final flush, and it logs a few lines per job, not per request.
        flush_seconds=settings.log_flush_seconds if service == "algorithm" else None,
    )
    sentry.init(settings, service=service)
    # Before anything imports prometheus-client (mlservice.observability.metrics, below).
    multiproc.prepare(settings.prometheus_multiproc_dir)

    app = Flask(__name__, static_folder=None)  # an API: no static files
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_request_bytes)
    app.json.sort_keys = False  # keep bodies in the documented field order

    from textclf_ops.throttle import RedisWindowCounter

    from mlservice import db
    from mlservice.api import (
        auth,
        edge,
        errors,
        health,
        instrumentation,
        models,
        prediction,
        training,
    )
    from mlservice.api import metrics as metrics_api
    from mlservice.api.shadow import ShadowScorer
    from mlservice.observability import metrics
    from mlservice.store.model_store import ModelStore
    from mlservice.worker.celery_app import celery_init_app

    db.init_app(app)
    errors.register_error_handlers(app)
    instrumentation.init_app(app)
    auth.init_app(app)
    for blueprint in (health.bp, metrics_api.bp, training.bp, prediction.bp, models.bp, edge.bp):
        app.register_blueprint(blueprint)
    app.extensions["model_store"] = ModelStore(
        settings.models_dir,
        signing_key=settings.model_signing_key.get_secret_value(),
        max_bytes=settings.model_max_bytes,
    )
    app.extensions["shadow"] = ShadowScorer(settings)
    # Connects per thread on first use, after gunicorn's fork. Short timeouts: a Redis outage
    # costs a prediction milliseconds (the throttle then fails open), never seconds.
    app.extensions["throttle_counter"] = RedisWindowCounter(
        settings.cache_url.get_secret_value(),
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    )
    if service == "algorithm" and settings.model_sync_seconds > 0:
        from mlservice.store.artifact_db import Follower

        # Started by the first request of each gunicorn worker: a thread must not cross a fork.
        follower = Follower(settings, interval=settings.model_sync_seconds)
        app.extensions["model_follower"] = follower
        app.before_request(follower.ensure_started)
    if not multiproc.is_active():
        structlog.get_logger(__name__).warning(
            "prometheus-client was imported before PROMETHEUS_MULTIPROC_DIR was set: each "
            "process exports only its own metrics. Set the variable in the environment.",
            directory=str(settings.prometheus_multiproc_dir),
        )
    metrics.MODEL_MAX_AGE.set(settings.model_max_age_seconds)
    metrics.PREDICT_P99_THRESHOLD.set(settings.predict_p99_threshold_seconds)
    celery_init_app(app)
    return app
