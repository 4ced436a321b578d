"""A worker bootstep that touches a file every few seconds, for a cheap container healthcheck.

It runs in the consumer, which starts only once the broker is connected and stops when the
connection is lost, so a stale file means "not consuming", not only "process gone". The check
itself (`python -m mlservice.observability.healthcheck worker`) only compares the file's age
with a limit: unlike `celery inspect ping` it costs no broker round trip and no Celery start-up.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from celery import bootsteps

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 10.0


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


class HeartbeatFile(bootsteps.StartStopStep):
    requires = ("celery.worker.consumer.tasks:Tasks",)  # start once consuming

    def __init__(self, consumer, **kwargs) -> None:
        super().__init__(consumer, **kwargs)
        self.path = Path(consumer.app.conf["mlservice_heartbeat_file"])
        self.timer_entry = None

    def start(self, consumer) -> None:
        self.beat()
        self.timer_entry = consumer.timer.call_repeatedly(INTERVAL_SECONDS, self.beat)

    def stop(self, consumer) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def shutdown(self, consumer) -> None:
        self.stop(consumer)
        self.path.unlink(missing_ok=True)

    def beat(self) -> None:
        try:
            touch(self.path)
        except OSError:
            log.exception("Cannot write the worker heartbeat file", path=str(self.path))
