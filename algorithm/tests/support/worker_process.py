"""A real Celery worker process, started the way the container starts it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlservice.config import Settings
from tests.support import wait_for

ALGORITHM_DIR = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 60


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    metrics_port: int

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines (anything else it printed is skipped)."""
        records = []
        for line in self.log_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def child_pids(self) -> list[int]:
        """The pool processes (children of the main process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_worker(
    settings: Settings, workdir: Path, *, concurrency: int = 2, **extra_env: str
) -> Iterator[WorkerProcess]:
    """Start `celery -A mlservice.worker.main worker` on the test broker; stop it warmly after."""
    metrics_port = free_port()
    prometheus_dir = workdir / "worker-prometheus"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "CELERY_BROKER_URL": settings.celery_broker_url.get_secret_value(),
        "MODELS_DIR": str(settings.models_dir),
        "WORKER_HEARTBEAT_FILE": str(settings.worker_heartbeat_file),
        "ML_SERVICE_TOKEN": settings.ml_service_token.get_secret_value(),
        "MODEL_SIGNING_KEY": settings.model_signing_key.get_secret_value(),
        "TRAIN_LEASE_SECONDS": str(settings.train_lease_seconds),
        "TRAIN_MAX_ATTEMPTS": str(settings.train_max_attempts),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(prometheus_dir),
        "WORKER_METRICS_PORT": str(metrics_port),
        **extra_env,
    }
    settings.worker_heartbeat_file.unlink(missing_ok=True)
    log_path = workdir / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mlservice.worker.main",
                "--quiet",
                "worker",
                "--queues=training,control",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{os.getpid()}@%h",
            ],
            cwd=ALGORITHM_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(process=process, log_path=log_path, metrics_port=metrics_port)
    try:
        wait_for(
            lambda: settings.worker_heartbeat_file.exists() or process.poll() is not None,
            timeout=WORKER_START_TIMEOUT,
        )
        assert process.poll() is None, worker.log_text()
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown, as `docker stop` does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
