"""Celery tasks: thin wrappers that hand plain values to plain functions."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from mlservice import training


@shared_task(
    name="mlservice.train_model",
    ignore_result=True,
    # A redelivered message finds its job no longer queued and returns, so retrying would only
    # repeat work: failures are recorded on the job instead.
    max_retries=0,
    soft_time_limit=training.SOFT_TIME_LIMIT.total_seconds(),
    time_limit=training.TIME_LIMIT.total_seconds(),
)
def train_model(job_id: str) -> None:
    training.run_training(job_id, current_app.config["SETTINGS"])
