from __future__ import annotations

import time

from flask import Blueprint, current_app, request
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice.api import shadow
from mlservice.api.errors import ApiError
from mlservice.api.instrumentation import current_request_id
from mlservice.api.training import iso_utc
from mlservice.api.validation import json_object, limit_param
from mlservice.db import get_db
from mlservice.store import artifact_db, artifacts
from mlservice.worker import tasks

bp = Blueprint("models", __name__)

_LISTED_FIELDS = ("version", "created_at", "n_samples", "labels", "metrics", "parameters")
# Only one version's record carries these: the per-label report grows with labels squared.
_DETAIL_FIELDS = ("recipes", "evaluation", "gate")
# Who changed a stage: web's gateway and nginx's /ml/ door both send the authenticated user's
# name (the ML API trusts it as it trusts the service token that must come with it).
ACTOR_HEADER = "X-Actor"
REASON_MAX_LENGTH = 500
STAGE_CHANGES_LIMIT_MAX = 200
# How often the activation request looks whether the worker has switched `current`.
_ACTIVATE_POLL_SECONDS = 0.05


@bp.get("/models")
def list_models():
    models_dir = current_app.config["SETTINGS"].models_dir
    current = artifacts.current_version(models_dir)
    stages = artifact_db.stages(get_db())
    results = [
        {
            **{name: metadata.get(name) for name in _LISTED_FIELDS},
            "excluded_labels": metadata.get("excluded_labels", {}),
            "current": metadata.get("version") == current,
            "stage": stages.get(metadata.get("version")),
            "gate": _gate_summary(metadata.get("gate")),
        }
        for metadata in artifacts.list_versions(models_dir)
    ]
    return {"current": current, "results": results}


def _gate_summary(gate: dict | None) -> dict | None:
    """The promotion decision of the training that made the version, without the per-label
    recall table (in the version's own record)."""
    if not isinstance(gate, dict):
        return None
    return {name: gate.get(name) for name in ("promote", "reasons", "production_version")}


@bp.get("/models/<version>")
def model_detail(version: str):
    """One kept version: what the list shows, plus the recipes it was chosen from and its
    per-label precision, recall, F1, support and confusion matrix on its evaluation rows
    (null for a version trained before they were recorded)."""
    models_dir = current_app.config["SETTINGS"].models_dir
    for metadata in artifacts.list_versions(models_dir):
        if metadata.get("version") == version:
            conn = get_db()
            return {
                **{name: metadata.get(name) for name in _LISTED_FIELDS},
                "excluded_labels": metadata.get("excluded_labels", {}),
                "current": version == artifacts.current_version(models_dir),
                "stage": artifact_db.stage_of(conn, version),
                **{name: metadata.get(name) for name in _DETAIL_FIELDS},
                "stage_changes": [
                    _change_json(change)
                    for change in artifact_db.stage_changes(conn, version=version)
                ],
                "shadow": shadow.agreement(conn, version),
            }
    raise ApiError(404, "Model version not found.")


@bp.get("/models/stage-changes")
def list_stage_changes():
    """Every stage change, newest first: who, when, which version, from and to, why.
    ?version= for one version's; ?limit= from 1 (default and cap: 200)."""
    version = request.args.get("version") or None
    changes = artifact_db.stage_changes(
        get_db(), version=version, limit=limit_param(STAGE_CHANGES_LIMIT_MAX)
    )
    return {"results": [_change_json(change) for change in changes]}


@bp.post("/models/<version>/promote")
def promote_model(version: str):
    """Staff: make a candidate production, with a reason (the gate held it back, or it waited)."""
    return _move_to_production(version, action="promote", expect=(artifact_db.CANDIDATE,))


@bp.post("/models/<version>/rollback")
def rollback_model(version: str):
    """Staff: make a kept archived version production again, with a reason."""
    return _move_to_production(version, action="rollback", expect=(artifact_db.ARCHIVED,))


def _change_json(change: artifact_db.StageChange) -> dict:
    return {
        "id": change.id,
        "version": change.version,
        "from_stage": change.from_stage,
        "to_stage": change.to_stage,
        "actor": change.actor,
        "reason": change.reason,
        "created_at": iso_utc(change.created_at),
    }


def _actor() -> str:
    return (request.headers.get(ACTOR_HEADER) or "").strip()[:150] or "unknown"


def _move_to_production(version: str, *, action: str, expect: tuple[str, ...]):
    body = json_object(allowed={"reason"})
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(
            400,
            f"A {action} needs a reason.",
            errors={"reason": ["A non-empty string is required."]},
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ApiError(
            400,
            f"reason is longer than {REASON_MAX_LENGTH} characters.",
            errors={"reason": [f"At most {REASON_MAX_LENGTH} characters."]},
        )
    stage = artifact_db.stage_of(get_db(), version)
    if stage is None:
        raise ApiError(404, "Model version not found.")
    if stage not in expect:
        wanted = " or ".join(f"{'an' if name[0] in 'aeiou' else 'a'} {name}" for name in expect)
        raise ApiError(
            409,
            f"Model version {version} is {stage}; a {action} takes {wanted} version.",
            stage=stage,
        )
    return _switch(version, actor=_actor(), reason=f"{action}: {reason.strip()}", expect=expect)


@bp.post("/models/<version>/activate")
def activate_model(version: str):
    """Make a kept version current again (switch back). The worker verifies it and moves the
    pointer in Postgres (task on the `control` queue); this waits until this process's follower
    has copied the move into MODELS_DIR. Every API process of every replica follows the same
    pointer and serves the version within seconds."""
    json_object(allowed=set(), allow_empty_body=True)  # no body, or {}
    return _switch(version, actor=_actor(), reason="activated by hand (no reason given)")


def _switch(version: str, *, actor: str, reason: str, expect: tuple[str, ...] | None = None):
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
            args=[version],
            kwargs={
                "actor": actor,
                "reason": reason,
                "expect": list(expect) if expect is not None else None,
            },
            headers={"request_id": current_request_id()},
            expires=timeout,
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
