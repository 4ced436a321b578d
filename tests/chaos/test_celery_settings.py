"""The running worker's effective Celery settings, asked of the worker itself (celery inspect).

A bare Celery client inside algorithm_celery sends the broadcast, so the answer describes the
worker process that is running, not a module read from disk.
"""

import json
import re

import pytest

INSPECT = r"""
import json, os
from celery import Celery
inspect = Celery(broker=os.environ["CELERY_BROKER_URL"]).control.inspect(timeout=10)
conf = inspect.conf(with_defaults=True) or {}
tasks = inspect.registered(
    "acks_late", "reject_on_worker_lost", "soft_time_limit", "time_limit", "max_retries"
) or {}
print(json.dumps({"conf": conf, "tasks": tasks}))
"""
TRAIN_TASK = "mlservice.train_model"


@pytest.fixture(scope="module")
def worker(stack) -> dict:
    result = stack.exec("algorithm_celery", "python", "-c", INSPECT)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(answer["conf"]) == 1, f"expected one worker to answer: {list(answer['conf'])}"
    (name,) = answer["conf"]
    task_line = next(t for t in answer["tasks"][name] if t.split()[0] == TRAIN_TASK)
    attributes = dict(re.findall(r"(\w+)=(\S+?)(?=[\s\]])", task_line))
    return {"conf": answer["conf"][name], "task": attributes}


def test_training_is_acknowledged_late_and_rejected_on_worker_loss(worker, measured):
    measured.update(worker["task"])
    assert worker["task"].get("acks_late") == "True"
    assert worker["task"].get("reject_on_worker_lost") == "True"


def test_the_worker_prefetches_one_message(worker, measured):
    measured["worker_prefetch_multiplier"] = worker["conf"]["worker_prefetch_multiplier"]
    assert worker["conf"]["worker_prefetch_multiplier"] == 1


def test_training_has_soft_and_hard_time_limits(worker):
    soft = float(worker["task"]["soft_time_limit"])
    hard = float(worker["task"]["time_limit"])
    assert 0 < soft < hard


def test_the_visibility_timeout_exceeds_the_hard_limit(worker, measured):
    options = worker["conf"].get("broker_transport_options") or {}
    measured["broker_transport_options"] = options
    assert "visibility_timeout" in options
    assert float(options["visibility_timeout"]) > float(worker["task"]["time_limit"])


def test_broker_connections_are_bounded(worker, measured):
    conf = worker["conf"]
    options = conf.get("broker_transport_options") or {}
    measured["broker_connection_timeout"] = conf.get("broker_connection_timeout")
    assert 0 < float(conf["broker_connection_timeout"]) <= 5
    assert 0 < float(options["socket_connect_timeout"]) <= 5
