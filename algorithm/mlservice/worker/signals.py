"""What the worker does around tasks, wired to Celery's signals: logs, metrics, start-up.

- Logging: our JSON logging stays (connecting `setup_logging` stops Celery from replacing it).
- Context: each task's log lines carry the request id from the message headers (set by the API
  that queued it), the task name and id; training adds job_id and model_version.
- Start-up: jobs left running by a dead worker are failed (stale lease).
- Metrics: celery_tasks_total by state; the multiprocess directory is wiped at start (except
  this process's own files) and a pool child's live gauges are dropped when it exits; the main
  process serves /metrics on WORKER_METRICS_PORT.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
import structlog
from celery import signals

from mlservice import db
from mlservice.config import Settings
from mlservice.observability import logs, metrics, multiproc
from mlservice.training import run as training
from mlservice.worker import exporter as worker_exporter
from mlservice.worker.celery_app import ACTIVATE_TASK, TRAIN_TASK

log = structlog.get_logger(__name__)


def install(settings: Settings, queues: tuple[str, ...]) -> None:
    exporter: list[Any] = []

    def keep_our_logging(**kwargs: Any) -> None:
        logs.configure(service="worker", level=settings.log_level, fmt=settings.log_format)

    def on_worker_init(**kwargs: Any) -> None:
        multiproc.reset(settings.prometheus_multiproc_dir, keep_pid=os.getpid())

    def on_worker_ready(**kwargs: Any) -> None:
        reap_stale_jobs(settings)
        if settings.worker_metrics_port:
            exporter.append(worker_exporter.start(settings, queues))
            log.info("Serving worker metrics", port=settings.worker_metrics_port)

    def on_worker_shutdown(**kwargs: Any) -> None:
        for server, _thread in exporter:
            server.shutdown()

    def on_pool_process_shutdown(**kwargs: Any) -> None:
        multiproc.mark_dead(os.getpid(), settings.prometheus_multiproc_dir)

    for signal, receiver in (
        (signals.setup_logging, keep_our_logging),
        (signals.worker_init, on_worker_init),
        (signals.worker_ready, on_worker_ready),
        (signals.worker_shutdown, on_worker_shutdown),
        (signals.worker_process_shutdown, on_pool_process_shutdown),
        (signals.task_received, count_received),
        (signals.task_prerun, bind_task_context),
        (signals.task_postrun, clear_task_context),
        (signals.task_success, count_succeeded),
        (signals.task_failure, count_failed),
        (signals.task_retry, count_retried),
        (signals.task_rejected, count_rejected),
    ):
        signal.connect(receiver, weak=False)


def reap_stale_jobs(settings: Settings) -> None:
    """At start-up: jobs left 'running' by a worker that died are failed with a reason."""
    try:
        with db.connect(settings) as conn:
            training.fail_stale_jobs(conn, settings)
    except psycopg.Error as exc:  # the API's readers reap too; never block the worker's start
        log.warning("Could not check for stale training jobs", error=str(exc))


_OUR_TASKS = frozenset({TRAIN_TASK, ACTIVATE_TASK})


def bind_task_context(task_id: str, task: Any, **kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        request_id=getattr(task.request, "request_id", None), task=task.name, task_id=task_id
    )
    metrics.CELERY_TASKS.labels(task=task.name, state="started").inc()


def clear_task_context(**kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()


def count_received(request: Any, **kwargs: Any) -> None:
    metrics.CELERY_TASKS.labels(task=request.name, state="received").inc()


def count_succeeded(sender: Any, **kwargs: Any) -> None:
    metrics.CELERY_TASKS.labels(task=sender.name, state="succeeded").inc()


def count_failed(sender: Any, **kwargs: Any) -> None:
    metrics.CELERY_TASKS.labels(task=sender.name, state="failed").inc()


def count_retried(sender: Any, **kwargs: Any) -> None:
    metrics.CELERY_TASKS.labels(task=sender.name, state="retried").inc()


def count_rejected(message: Any, **kwargs: Any) -> None:
    # The name comes from the message, i.e. from whoever could write to the broker: a label
    # value per name would let them grow the series without bound.
    name = (getattr(message, "headers", None) or {}).get("task")
    task = name if name in _OUR_TASKS else "other"
    metrics.CELERY_TASKS.labels(task=task, state="rejected").inc()
