"""Celery signal receivers: their metric labels come from a fixed set, whatever the message."""

import secrets
from types import SimpleNamespace

from mlservice.observability import metrics
from mlservice.worker import signals as worker_signals
from mlservice.worker.celery_app import TRAIN_TASK


def _rejected_task_labels() -> set[str]:
    return {
        sample.labels["task"]
        for family in metrics.CELERY_TASKS.collect()
        for sample in family.samples
        if sample.labels.get("state") == "rejected"
    }


def test_rejected_messages_are_counted_under_a_bounded_set_of_task_names():
    for _ in range(50):
        message = SimpleNamespace(headers={"task": f"crafted.{secrets.token_hex(8)}"})
        worker_signals.count_rejected(message=message)
    worker_signals.count_rejected(message=SimpleNamespace(headers={"task": TRAIN_TASK}))
    worker_signals.count_rejected(message=SimpleNamespace(headers=None))
    assert _rejected_task_labels() <= {TRAIN_TASK, "other"}
