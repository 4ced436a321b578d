"""Queue a training job (API side) and run one (worker side), composing the I/O modules.

`run_training` is a plain function of a job id and the settings, so tests drive it without a
broker; the Celery task only calls it. Every path ends the job 'succeeded' or 'failed', or
leaves it to the run that holds it: a run writes the job only while it holds the lease (its
fence number), and publishes only if no newer run has.
"""

from __future__ import annotations

import errno
import hashlib
import pickle
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import structlog
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerOperationalError

from mlservice import db
from mlservice.config import Settings
from mlservice.ml import promotion, text_classifier
from mlservice.observability import metrics
from mlservice.store import artifact_db, artifacts
from mlservice.training import data_source, fingerprint, jobs, lease, progress

log = structlog.get_logger(__name__)

# Declared on the task. The hard limit is a backstop: the soft one ends the run cleanly first.
SOFT_TIME_LIMIT = timedelta(minutes=55)
TIME_LIMIT = timedelta(minutes=60)
# A queued job nobody started for this long lost its message; it is failed to free the slot.
ABANDONED_QUEUED_AFTER = timedelta(hours=1)
# The final status write survives a database blip of about this long.
_STATUS_WRITE_ATTEMPTS = 4
_STATUS_WRITE_BACKOFF_SECONDS = 2.0


@dataclass(frozen=True)
class Outcome:
    """How a successful run ended: its model was `promoted`, held back as a `candidate`, or the
    run was `skipped` (unchanged data; `version` is then the production version)."""

    version: str
    kind: str
    note: str
    trained: text_classifier.TrainedModel | None = None


class BrokerUnavailable(Exception):
    """The job could not be handed to the broker; it has been marked failed."""


def fail_stale_jobs(conn: psycopg.Connection, settings: Settings) -> int:
    """Fail jobs whose worker is gone (lease expired) or that no worker ever started."""
    failed = jobs.fail_stale(
        conn,
        lease=timedelta(seconds=settings.train_lease_seconds),
        queued_for=ABANDONED_QUEUED_AFTER,
    )
    if failed:
        log.warning("Failed stale training jobs", count=failed)
    return failed


def queue_training(
    conn: psycopg.Connection, settings: Settings, *, enqueue: Callable[[str], object]
) -> jobs.Job:
    """Create the queued job (single-flight) and send its id to the worker.

    Raises jobs.ActiveJobExists, or BrokerUnavailable after failing the job so that it does not
    block the next attempt.
    """
    fail_stale_jobs(conn, settings)
    job = jobs.create(conn)
    structlog.contextvars.bind_contextvars(job_id=str(job.job_id))
    try:
        enqueue(str(job.job_id))
    except (BrokerOperationalError, OSError) as exc:
        log.error("Could not queue the training job", error=repr(exc))
        jobs.mark_failed(
            conn, job.job_id, error=f"Could not queue the job: the broker is unreachable ({exc})."
        )
        raise BrokerUnavailable(str(exc)) from exc
    log.info("Training job queued")
    return job


def run_training(
    job_id: str,
    settings: Settings,
    *,
    announce_progress: Callable[[progress.Progress], None] | None = None,
    force: bool = False,
) -> str | None:
    """Train on every row of `data`, publish the model as a candidate, promote it if it passes
    the gate, record the outcome on the job. Skips the training when the rows are those the
    production model learned (unless `force`).

    Returns the published version (or, skipped, the production one), or None when the job
    failed or was not this run's to do (a duplicate delivery, a job already finished, failed as
    stale or given up). Expected failures (too few rows or labels, a full disk, a lost lease, a
    newer model) end the job quietly; any other exception fails the job and is re-raised for
    the worker's log and Sentry.
    The run's progress goes to the job row and, if given, to `announce_progress` (Flower).
    """
    job_uuid = uuid.UUID(job_id)
    structlog.contextvars.bind_contextvars(job_id=job_id)
    with db.connect(settings) as conn:
        claim = jobs.claim(
            conn,
            job_uuid,
            worker=lease.owner_id(),
            lease=timedelta(seconds=settings.train_lease_seconds),
            max_attempts=settings.train_max_attempts,
            owner_is_gone=lease.owner_is_gone,
        )
    if claim.fence is None:
        log.warning("Training job not started", reason=claim.reason, attempts=claim.attempts)
        return None
    structlog.contextvars.bind_contextvars(fence=claim.fence)
    log.info("Training job started", classifier=settings.classifier, attempt=claim.attempts)

    run = _Run()
    report = progress.Reporter(
        progress.job_writer(settings, job_uuid, claim.fence), announce=announce_progress
    )
    with lease.LeaseKeeper(settings, job_uuid, claim.fence) as keeper:
        try:
            outcome = _train_and_publish(
                settings, job_id, run, claim.fence, keeper, report, force=force
            )
        except Exception as exc:
            error = _expected_failure(exc)
            if error is None:
                _fail(settings, job_uuid, claim.fence, run, f"{type(exc).__name__}: {exc}")
                raise
            log.warning("Training job failed", error=error)
            _fail(settings, job_uuid, claim.fence, run, error)
            return None

    version = outcome.version
    structlog.contextvars.bind_contextvars(model_version=version)
    trained = outcome.trained
    _record(
        settings,
        jobs.mark_succeeded,
        job_uuid,
        fence=claim.fence,
        model_version=version,
        metrics=trained.metrics if trained is not None else {},
        n_samples=run.n_samples or 0,
        stats=run.stats(),
        outcome=outcome.kind,
        note=outcome.note,
    )
    _count_run("succeeded", run)
    metrics.TRAINING_LAST_SUCCESS.set(time.time())
    log.info(
        "Training job succeeded",
        outcome=outcome.kind,
        note=outcome.note,
        metrics=trained.metrics if trained is not None else None,
        stats=run.stats(),
    )
    return version


class _Run:
    """Phase timings and row count of one run, for the job's `stats` and the metrics."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}
        self.n_samples: int | None = None

    def phase(self, name: str, started: float) -> None:
        self.seconds[f"{name}_seconds"] = round(time.monotonic() - started, 3)

    def stats(self) -> dict[str, Any]:
        # The pool process runs one task and exits (worker_max_tasks_per_child=1), so its
        # lifetime peak is this run's peak, including the libraries forked from the main process.
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "peak_rss_bytes": peak_kib * 1024,
            "read_seconds": self.seconds.get("read_seconds"),
            "fit_seconds": self.seconds.get("fit_seconds"),
            "publish_seconds": self.seconds.get("publish_seconds"),
            "total_seconds": round(time.monotonic() - self.started, 3),
        }


def _expected_failure(exc: Exception) -> str | None:
    """The job's error for a failure that is not a bug (no traceback for Sentry), else None."""
    if isinstance(
        exc,
        text_classifier.TrainingDataError | data_source.TooManyLabels | artifacts.PublishRefused,
    ):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            "No space left on the models volume (ENOSPC) while publishing; nothing was "
            "published and the current model is unchanged."
        )
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"Training exceeded its time limit ({SOFT_TIME_LIMIT.total_seconds():.0f} s)."
    return None


def _train_and_publish(
    settings: Settings,
    job_id: str,
    run: _Run,
    fence: int,
    keeper: lease.LeaseKeeper,
    report: progress.Reporter,
    *,
    force: bool = False,
) -> Outcome:
    started = time.monotonic()
    with db.connect(settings) as conn:
        row_ids, texts, labels = data_source.read_all(
            conn,
            batch_size=settings.train_batch_size,
            max_labels=settings.train_max_labels,
            on_progress=lambda done, total: report("reading_rows", done, total),
            verified_only=settings.train_verified_only,
        )
        data_hash = fingerprint.data_hash(
            row_ids,
            texts,
            labels,
            classifier=settings.classifier,
            verified_only=settings.train_verified_only,
        )
        serving = artifact_db.production(conn)
        if serving is not None and serving.data_hash == data_hash and not force:
            run.n_samples = len(texts)
            return Outcome(
                serving.version,
                "skipped",
                f"Skipped: the data has not changed since production model {serving.version} "
                "was trained on it (same rows and settings); POST /api/train/ with "
                '{"force": true} trains anyway.',
            )
        baseline, baseline_note = _baseline(conn, settings, serving)
    run.phase("read", started)
    run.n_samples = len(texts)
    metrics.TRAINING_ROWS.set(run.n_samples)

    started = time.monotonic()
    trained = text_classifier.train(
        texts,
        labels,
        row_ids=row_ids,
        classifier=settings.classifier,
        recipe_budget_seconds=settings.train_recipe_budget_seconds,
        min_samples=settings.train_min_samples,
        n_jobs=settings.train_n_jobs,
        max_features=settings.train_max_features,
        max_model_bytes=settings.model_max_bytes,
        refit_max_rows=settings.train_refit_max_rows or None,
        on_progress=report,
        baseline=baseline,
    )
    del row_ids, texts, labels, baseline
    run.phase("fit", started)
    if keeper.lost():
        raise artifacts.LeaseLost("lost its lease while training (a newer run took over)")

    rules = promotion.GateRules(
        f1_tolerance=settings.train_promote_f1_tolerance,
        max_recall_drop=settings.train_promote_max_recall_drop,
        min_f1=settings.train_promote_min_f1,
    )
    decision = promotion.decide(
        {"f1_macro": trained.metrics["f1_macro"], **trained.evaluation},
        trained.baseline_evaluation,
        rules,
    )
    gate = {
        **decision.as_record(rules),
        "production_version": serving.version if serving is not None else None,
    }
    if baseline_note:
        gate["reasons"] = [baseline_note, *gate["reasons"]]
    reason = "; ".join(gate["reasons"])

    started = time.monotonic()
    report("publishing")
    # Without a refit the published model is the held-out fit itself: it is stored once, and
    # the next run's gate reads it from the version's own files.
    if trained.metrics["refit"]:
        holdout = pickle.dumps(trained.holdout, protocol=pickle.HIGHEST_PROTOCOL)
        kept_fit = {artifacts.HOLDOUT_SHA256_FIELD: hashlib.sha256(holdout).hexdigest()}
    else:
        holdout, kept_fit = None, {artifacts.HOLDOUT_IS_MODEL_FIELD: True}
    version, files = artifacts.signed_files(
        model=trained.classifier,
        vectorizer=trained.vectorizer,
        metadata={
            "job_id": job_id,
            "n_samples": trained.n_samples,
            "labels": trained.labels,
            "excluded_labels": trained.excluded_labels,
            "metrics": trained.metrics,
            "parameters": trained.parameters,
            "recipes": trained.recipes,
            "evaluation": trained.evaluation,
            "gate": gate,
            "data_hash": data_hash,
            **kept_fit,
        },
        signing_key=settings.model_signing_key.get_secret_value(),
        fence=fence,
        max_bytes=settings.model_max_bytes,
    )
    with db.connect(settings) as conn:
        artifact_db.publish(
            conn,
            version,
            files,
            keep=settings.model_keep_versions,
            fence=fence,
            still_leased=keeper.still_held,
            promote=decision.promote,
            actor=f"training job {job_id}",
            reason=reason,
            data_hash=data_hash,
            holdout=holdout,
        )
        artifact_db.sync_quietly(conn, settings)
    run.phase("publish", started)
    if decision.promote:
        return Outcome(version, "promoted", f"Promoted to production: {reason}", trained)
    return Outcome(
        version, "candidate", f"Held back as a candidate (not served): {reason}", trained
    )


def _baseline(
    conn: psycopg.Connection, settings: Settings, serving: artifact_db.Production | None
) -> tuple[Any, str | None]:
    """The production model's held-out fit for the gate, or None and why not."""
    if serving is None:
        return None, None
    kept = artifact_db.fetch_holdout(conn, serving.version)
    if kept is None:
        return None, (
            f"production model {serving.version} kept no held-out fit (trained before the "
            "promotion gate), so it cannot be compared on unseen rows"
        )
    signing_key = settings.model_signing_key.get_secret_value()
    try:
        if kept.fit is not None:
            fit = artifacts.load_holdout(
                serving.version, kept.metadata, kept.fit, signing_key=signing_key
            )
            return fit, None
        loaded = artifacts.load_files(
            serving.version, kept.files, signing_key=signing_key, max_bytes=settings.model_max_bytes
        )
        return text_classifier.fitted_pipeline(loaded.vectorizer, loaded.model), None
    except artifacts.ArtifactError as exc:
        log.warning("Cannot compare with the production model", error=str(exc))
        return None, f"production model {serving.version} cannot be compared: {exc}"


def _fail(settings: Settings, job_id: uuid.UUID, fence: int, run: _Run, error: str) -> None:
    _count_run("failed", run)
    _record(
        settings,
        jobs.mark_failed,
        job_id,
        fence=fence,
        error=error,
        n_samples=run.n_samples,
        stats=run.stats(),
    )


def _count_run(outcome: str, run: _Run) -> None:
    metrics.TRAINING_RUNS.labels(outcome=outcome).inc()
    metrics.TRAINING_DURATION.observe(time.monotonic() - run.started)


def _record(settings: Settings, transition: Callable[..., bool], job_id: uuid.UUID, **kwargs):
    """Write a final status, retrying while the database is briefly unreachable."""
    for attempt in range(1, _STATUS_WRITE_ATTEMPTS + 1):
        try:
            with db.connect(settings) as conn:
                if not transition(conn, job_id, **kwargs):
                    log.warning("The job is no longer this run's; its status is left as is")
                return
        except psycopg.OperationalError:
            if attempt == _STATUS_WRITE_ATTEMPTS:
                raise
            log.warning("Database unavailable recording the job outcome; retrying", exc_info=True)
            time.sleep(_STATUS_WRITE_BACKOFF_SECONDS * attempt)
