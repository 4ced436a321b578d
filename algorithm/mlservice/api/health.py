"""Liveness and readiness, without authentication (containers and nginx call them directly).

- /health/live: the process answers; touches nothing else.
- /health/ready: the broker answers (bounded to about a second), plus what model this process
  serves; 503 when the broker is unreachable, since POST /train would then fail. Predictions do
  not need the broker, so a missing model is reported but does not make the API unready.
- /health: liveness plus the current model version (kept from the first release).
"""

from __future__ import annotations

from flask import Blueprint, current_app

from mlservice import broker
from mlservice.store import artifacts

bp = Blueprint("health", __name__)

# Connect and reply timeouts of the readiness ping: together at most about two seconds.
BROKER_CHECK_TIMEOUT_SECONDS = 1.0


@bp.get("/health")
def health():
    version = artifacts.current_version(current_app.config["SETTINGS"].models_dir)
    return {"status": "ok", "model_version": version}


@bp.get("/health/live")
def live():
    return {"status": "ok"}


@bp.get("/health/ready")
def ready():
    broker_problem = broker.problem(_broker_client())
    store = current_app.extensions["model_store"]
    model = store.current()
    body = {
        "status": "ok" if broker_problem is None else "unavailable",
        "broker": broker_problem or "ok",
        "model_loaded": model is not None,
        "model_version": model.version if model else None,
        "model_error": store.error(),
    }
    if broker_problem is not None:
        return {**body, "detail": f"The task queue (Redis) is {broker_problem}."}, 503
    return body


def _broker_client():
    # One client (and connection pool) per app, created on first use in the serving process.
    client = current_app.extensions.get("readiness_broker")
    if client is None:
        client = broker.client(
            current_app.config["SETTINGS"].celery_broker_url.get_secret_value(),
            timeout=BROKER_CHECK_TIMEOUT_SECONDS,
        )
        current_app.extensions["readiness_broker"] = client
    return client
