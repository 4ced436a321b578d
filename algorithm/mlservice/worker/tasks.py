"""Celery tasks: thin wrappers that hand plain values to plain functions.

Both are acks_late with reject_on_worker_lost (see celery_app): a message is acknowledged only
once its task ended, and redelivered if the process running it died. Training counts its own
deliveries on the job (TRAIN_MAX_ATTEMPTS), so Celery's retries stay off.
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from mlservice import db
from mlservice.store import artifact_db
from mlservice.training import progress
from mlservice.training import run as training
from mlservice.worker.celery_app import ACTIVATE_TASK, TRAIN_TASK

# Switching a symlink after verifying two files takes well under a second.
ACTIVATE_SOFT_TIME_LIMIT_SECONDS = 20
ACTIVATE_TIME_LIMIT_SECONDS = 30


@shared_task(
    bind=True,
    name=TRAIN_TASK,
    ignore_result=True,
    max_retries=0,
    soft_time_limit=training.SOFT_TIME_LIMIT.total_seconds(),
    time_limit=training.TIME_LIMIT.total_seconds(),
)
def train_model(self, job_id: str, force: bool = False) -> None:
    training.run_training(
        job_id,
        current_app.config["SETTINGS"],
        announce_progress=progress.task_announcer(self),
        force=force,
    )


@shared_task(
    name=ACTIVATE_TASK,
    ignore_result=True,
    max_retries=0,
    soft_time_limit=ACTIVATE_SOFT_TIME_LIMIT_SECONDS,
    time_limit=ACTIVATE_TIME_LIMIT_SECONDS,
)
def activate_model(
    version: str,
    actor: str = "unknown",
    reason: str = "activated by hand",
    expect: list[str] | None = None,
) -> None:
    """Make `version` production; with `expect`, only from one of those stages."""
    settings = current_app.config["SETTINGS"]
    with db.connect(settings) as conn:
        artifact_db.activate(
            conn,
            version,
            signing_key=settings.model_signing_key.get_secret_value(),
            max_bytes=settings.model_max_bytes,
            actor=actor,
            reason=reason,
            expect=tuple(expect) if expect is not None else None,
        )
        artifact_db.sync_quietly(conn, settings)
