"""The worker's /metrics endpoint, served by its main process on WORKER_METRICS_PORT.

It merges the training and Celery families written by every pool process, and adds two values
read at scrape time: each queue's length from Redis (absent while Redis is down, never an
error) and `celery_worker_up`, 1 while the consumer's heartbeat is fresh (0 when the worker runs
but cannot consume, e.g. the broker is gone).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily
from textclf_ops import build_info

from mlservice import broker
from mlservice.config import Settings
from mlservice.observability import healthcheck, metrics

QUEUE_LENGTH_TIMEOUT_SECONDS = 1.0


class QueueLengthCollector:
    def __init__(self, broker_url: str, queues: tuple[str, ...]) -> None:
        self._client = broker.client(broker_url, timeout=QUEUE_LENGTH_TIMEOUT_SECONDS)
        self._queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        try:
            lengths = broker.queue_lengths(self._client, self._queues)
        except Exception:  # a scrape must never fail because Redis is down
            lengths = {}
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family


class WorkerUpCollector:
    def __init__(self, heartbeat_file: Path) -> None:
        self._heartbeat_file = heartbeat_file

    def collect(self) -> Iterator[GaugeMetricFamily]:
        fresh = healthcheck.check_worker(self._heartbeat_file) is None
        yield GaugeMetricFamily(
            "celery_worker_up",
            "1 while this worker consumes (its heartbeat is fresh), else 0.",
            value=1 if fresh else 0,
        )


def start(settings: Settings, queues: tuple[str, ...]) -> tuple[WSGIServer, threading.Thread]:
    registry = metrics.registry(
        str(settings.prometheus_multiproc_dir),
        metrics.WORKER_METRICS,
        extra=[
            QueueLengthCollector(settings.celery_broker_url.get_secret_value(), queues),
            WorkerUpCollector(settings.worker_heartbeat_file),
            build_info.BuildInfoCollector(),
        ],
    )
    return start_http_server(settings.worker_metrics_port, registry=registry)
