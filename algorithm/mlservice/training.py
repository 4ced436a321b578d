"""Queue a training job (API side) and run one (worker side), composing the I/O modules.

`run_training` is a plain function of a job id and the settings, so tests drive it without a
broker; the Celery task only calls it. Every path ends the job 'succeeded' or 'failed'.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import psycopg
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice import artifacts, data_source, db, jobs
from mlservice.config import Settings
from mlservice.ml import text_classifier

log = logging.getLogger(__name__)

# Declared on the task; a job still 'running' after the hard limit (+ slack) was lost with its
# worker and is failed by the next POST /train.
SOFT_TIME_LIMIT = timedelta(minutes=55)
TIME_LIMIT = timedelta(minutes=60)
ABANDONED_RUNNING_AFTER = TIME_LIMIT + timedelta(minutes=5)
ABANDONED_QUEUED_AFTER = timedelta(hours=1)
# The final status write survives a database blip of about this long.
_STATUS_WRITE_ATTEMPTS = 4
_STATUS_WRITE_BACKOFF_SECONDS = 2.0


class BrokerUnavailable(Exception):
    """The job could not be handed to the broker; it has been marked failed."""


def queue_training(conn: psycopg.Connection, *, enqueue: Callable[[str], object]) -> jobs.Job:
    """Create the queued job (single-flight) and send its id to the worker.

    Raises jobs.ActiveJobExists, or BrokerUnavailable after failing the job so that it does not
    block the next attempt.
    """
    reaped = jobs.fail_abandoned(
        conn, queued_for=ABANDONED_QUEUED_AFTER, running_for=ABANDONED_RUNNING_AFTER
    )
    if reaped:
        log.warning("Failed %d abandoned training job(s)", reaped)
    job = jobs.create(conn)
    try:
        enqueue(str(job.job_id))
    except (BrokerOperationalError, OSError) as exc:
        log.error("Could not queue training job %s: %r", job.job_id, exc)
        jobs.mark_failed(
            conn, job.job_id, error=f"Could not queue the job: the broker is unreachable ({exc})."
        )
        raise BrokerUnavailable(str(exc)) from exc
    return job


def run_training(job_id: str, settings: Settings) -> str | None:
    """Train on every row of `data`, publish the model, record the outcome on the job.

    Returns the published version, or None when the job failed or was not queued (a duplicate
    delivery, or a job already failed as abandoned). Data problems (too few rows or labels) end
    the job quietly; any other exception fails the job and is re-raised for the worker's log.
    """
    job_uuid = uuid.UUID(job_id)
    with db.connect(settings) as conn:
        if not jobs.mark_running(conn, job_uuid):
            log.warning("Training job %s is not queued; nothing to do", job_id)
            return None
        log.info("Training job %s started (classifier=%s)", job_id, settings.classifier)

    n_samples: int | None = None
    try:
        with db.connect(settings) as conn:
            texts, labels = data_source.read_all(conn, batch_size=settings.train_batch_size)
        n_samples = len(texts)
        trained = text_classifier.train(
            texts,
            labels,
            classifier=settings.classifier,
            min_samples=settings.train_min_samples,
            n_jobs=settings.train_n_jobs,
        )
        del texts, labels
        version = artifacts.publish(
            settings.models_dir,
            model=trained.classifier,
            vectorizer=trained.vectorizer,
            metadata={
                "job_id": job_id,
                "n_samples": trained.n_samples,
                "labels": trained.labels,
                "excluded_labels": trained.excluded_labels,
                "metrics": trained.metrics,
                "parameters": trained.parameters,
            },
            keep=settings.model_keep_versions,
        )
    except text_classifier.TrainingDataError as exc:
        log.warning("Training job %s failed: %s", job_id, exc)
        _record(settings, jobs.mark_failed, job_uuid, error=str(exc), n_samples=n_samples)
        return None
    except Exception as exc:
        _record(
            settings,
            jobs.mark_failed,
            job_uuid,
            error=f"{type(exc).__name__}: {exc}",
            n_samples=n_samples,
        )
        raise

    _record(
        settings,
        jobs.mark_succeeded,
        job_uuid,
        model_version=version,
        metrics=trained.metrics,
        n_samples=trained.n_samples,
    )
    log.info("Training job %s succeeded: version %s, %s", job_id, version, trained.metrics)
    return version


def _record(settings: Settings, transition: Callable[..., bool], job_id: uuid.UUID, **kwargs):
    """Write a final status, retrying while the database is briefly unreachable."""
    for attempt in range(1, _STATUS_WRITE_ATTEMPTS + 1):
        try:
            with db.connect(settings) as conn:
                if not transition(conn, job_id, **kwargs):
                    log.warning("Training job %s was no longer active; status left as is", job_id)
                return
        except psycopg.OperationalError:
            if attempt == _STATUS_WRITE_ATTEMPTS:
                raise
            log.warning("Database unavailable recording job %s; retrying", job_id, exc_info=True)
            time.sleep(_STATUS_WRITE_BACKOFF_SECONDS * attempt)
