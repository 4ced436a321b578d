from __future__ import annotations

import time

from flask import Blueprint, current_app
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice.api.errors import ApiError
from mlservice.api.instrumentation import current_request_id
from mlservice.api.validation import json_object
from mlservice.store import artifacts
from mlservice.worker import tasks

bp = Blueprint("models", __name__)

_LISTED_FIELDS = ("version", "created_at", "n_samples", "labels", "metrics", "parameters")
# Only one version's record carries these: the per-label report grows with labels squared.
_DETAIL_FIELDS = ("recipes", "evaluation")
# How often the activation request looks whether the worker has switched `current`.
_ACTIVATE_POLL_SECONDS = 0.05


@bp.get("/models")
def list_models():
    models_dir = current_app.config["SETTINGS"].models_dir
    current = artifacts.current_version(models_dir)
    results = [
        {
            **{name: metadata.get(name) for name in _LISTED_FIELDS},
            "excluded_labels": metadata.get("excluded_labels", {}),
            "current": metadata.get("version") == current,
        }
        for metadata in artifacts.list_versions(models_dir)
    ]
    return {"current": current, "results": results}


@bp.get("/models/<version>")
def model_detail(version: str):
    """One kept version: what the list shows, plus the recipes it was chosen from and its
    per-label precision, recall, F1, support and confusion matrix on its evaluation rows
    (null for a version trained before they were recorded)."""
    models_dir = current_app.config["SETTINGS"].models_dir
    for metadata in artifacts.list_versions(models_dir):
        if metadata.get("version") == version:
            return {
                **{name: metadata.get(name) for name in _LISTED_FIELDS},
                "excluded_labels": metadata.get("excluded_labels", {}),
                "current": version == artifacts.current_version(models_dir),
                **{name: metadata.get(name) for name in _DETAIL_FIELDS},
            }
    raise ApiError(404, "Model version not found.")


@bp.post("/models/<version>/activate")
def activate_model(version: str):
    """Make a kept version current again (switch back). The worker verifies it and moves the
    pointer in Postgres (task on the `control` queue); this waits until this process's follower
    has copied the move into MODELS_DIR. Every API process of every replica follows the same
    pointer and serves the version within seconds."""
    json_object(allowed=set(), allow_empty_body=True)  # no body, or {}
    settings = current_app.config["SETTINGS"]
    try:
        artifacts.verify(
            settings.models_dir,
            version,
            signing_key=settings.model_signing_key.get_secret_value(),
            max_bytes=settings.model_max_bytes,
        )
    except artifacts.VersionVanished:
        raise ApiError(404, "Model version not found.") from None
    except artifacts.ArtifactError as exc:
        raise ApiError(409, f"Model version {version} cannot be activated: {exc}") from None
    if artifacts.current_version(settings.models_dir) == version:
        return {"current": version}

    timeout = settings.activate_timeout_seconds
    try:
        # Expires with the wait: a worker that gets it later discards it, so a 503 here means
        # the switch did not happen (barring a worker that takes it in the last instant).
        tasks.activate_model.apply_async(
            args=[version], headers={"request_id": current_request_id()}, expires=timeout
        )
    except (BrokerOperationalError, OSError):
        raise ApiError(
            503, "The task queue is unavailable, so the model was not switched; retry shortly."
        ) from None
    deadline = time.monotonic() + timeout
    while artifacts.current_version(settings.models_dir) != version:
        if time.monotonic() >= deadline:
            raise ApiError(
                503,
                f"No worker switched to model version {version} within {timeout:g} s; "
                "the current model is unchanged. Check the worker and retry.",
            )
        time.sleep(_ACTIVATE_POLL_SECONDS)
    return {"current": version}
