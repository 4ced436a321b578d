from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, current_app

from mlservice.api.errors import ApiError
from mlservice.api.instrumentation import current_request_id
from mlservice.api.validation import json_object, limit_param
from mlservice.db import get_db
from mlservice.training import jobs
from mlservice.training import run as training
from mlservice.worker import tasks

bp = Blueprint("training", __name__)

LIST_LIMIT_MAX = 100


@bp.post("/train")
def submit_training():
    body = json_object(allowed={"force"}, allow_empty_body=True)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ApiError(
            400, "force must be true or false.", errors={"force": ["Must be a boolean."]}
        )
    try:
        job = training.queue_training(
            get_db(),
            current_app.config["SETTINGS"],
            enqueue=lambda job_id: _enqueue_training(job_id, force=force),
        )
    except jobs.ActiveJobExists as exc:
        raise ApiError(
            409, "A training job is already queued or running.", job_id=str(exc.job_id)
        ) from None
    except training.BrokerUnavailable:
        raise ApiError(
            503, "The task queue is unavailable, so the job was not queued; retry shortly."
        ) from None
    return {"job_id": str(job.job_id), "status": job.status}, 202


@bp.get("/train")
def list_jobs():
    """Newest first; ?limit= from 1 (default and cap: 100)."""
    limit = limit_param(LIST_LIMIT_MAX)
    conn = get_db()
    # Readers see no job stuck 'running' whose worker is gone.
    training.fail_stale_jobs(conn, current_app.config["SETTINGS"])
    return {"results": [job_json(job) for job in jobs.list_recent(conn, limit=limit)]}


@bp.get("/train/<job_id>")
def get_job(job_id: str):
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise ApiError(404, "Training job not found.") from None
    conn = get_db()
    training.fail_stale_jobs(conn, current_app.config["SETTINGS"])
    job = jobs.get(conn, parsed)
    if job is None:
        raise ApiError(404, "Training job not found.")
    return job_json(job)


def _enqueue_training(job_id: str, *, force: bool = False) -> None:
    # The request id travels in the message headers; the worker binds it to its log lines.
    # The task id is the job id, so Flower's page of the task is /flower/task/<job id>.
    tasks.train_model.apply_async(
        args=[job_id],
        kwargs={"force": True} if force else {},
        task_id=job_id,
        headers={"request_id": current_request_id()},
    )


def job_json(job: jobs.Job) -> dict:
    return {
        "job_id": str(job.job_id),
        "status": job.status,
        "error": job.error,
        "model_version": job.model_version,
        "metrics": job.metrics,
        "n_samples": job.n_samples,
        "created_at": iso_utc(job.created_at),
        "started_at": iso_utc(job.started_at),
        "finished_at": iso_utc(job.finished_at),
        "attempts": job.attempts,
        "stats": job.stats,
        "progress": job.progress,
        "outcome": job.outcome,
        "note": job.note,
    }


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
