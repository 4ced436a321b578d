"""The bench's own compose project: the product's compose file plus bench/docker-compose.bench.yml.

The override publishes Postgres on a loopback port of its own (the product publishes nginx only)
and adds the peers' app; the bench raises the rate limits so that they do not cap the
measurements. Started, waited for and removed (`down -v`) by the compose harness (tests/harness).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from harness import Stack

from bench.config import BenchConfig

COMPOSE_FILES = ("docker-compose.yml", "bench/docker-compose.bench.yml")
ADMIN_USERNAME = "bench-admin"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway stack on loopback
ML_SERVICE_TOKEN = "dev-ml-service-token"  # noqa: S105 - the development default
WORKER = "algorithm_celery"
# What the bench measures: the request path, the training worker and the peers' app. Flower and
# Prometheus are left out so that their background work does not weigh on the measurements.
SERVICES = (
    "db", "redis", "web_migrate", "web", "algorithm_migrate", "algorithm", WORKER, "nginx", "peers",
)  # fmt: skip
_GUNICORN_BOOT = "Booting worker"
# Far above anything two cores can serve, so neither limiter shapes a measurement.
UNLIMITED_RATES = {
    "NGINX_API_RATE": "1000000r/s",
    "NGINX_API_BURST": "1000000",
    "NGINX_ML_RATE": "1000000r/s",
    "NGINX_ML_BURST": "1000000",
    "DRF_THROTTLE_USER": "100000000/min",
    "DRF_THROTTLE_ANON": "100000000/min",
}


@dataclass(frozen=True, kw_only=True)
class BenchStack(Stack):
    db_port: int

    @classmethod
    def from_config(cls, config: BenchConfig) -> BenchStack:
        return cls(
            project=config.project,
            http_port=config.http_port,
            db_port=config.db_port,
            compose_files=COMPOSE_FILES,
            services=SERVICES,
            env={
                "BENCH_DB_PORT": str(config.db_port),
                "ADMIN_USERNAME": ADMIN_USERNAME,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "ML_SERVICE_TOKEN": ML_SERVICE_TOKEN,
                "CLASSIFIER": "linear_svc",
                **UNLIMITED_RATES,
            },
        )

    # HTTP goes to the containers' own addresses on their bridge network, as traffic from
    # another host arrives (through the kernel's NAT), not to the loopback port nginx publishes:
    # Docker relays loopback connections through docker-proxy, a userland copy of every byte
    # whose CPU cost BENCHMARKS.md records.
    @property
    def base_url(self) -> str:
        return f"http://{self.address('nginx')}"

    @property
    def algorithm_url(self) -> str:
        return f"http://{self.address('algorithm')}:8000"

    @property
    def peers_url(self) -> str:
        return f"http://{self.address('peers')}:8000"

    @property
    def database_url(self) -> str:
        # The owner role: the bench truncates and bulk-loads `data`, as an operator would.
        return f"postgres://textclf:textclf@127.0.0.1:{self.db_port}/textclf"

    def recreate_worker(self, *, classifier: str) -> None:
        """A fresh training worker running `classifier` (the setting is read at start)."""
        worker = dataclasses.replace(self, env={**self.env, "CLASSIFIER": classifier})
        worker.compose(
            "up", "-d", "--no-deps", "--force-recreate", "--wait", "--wait-timeout", "300", WORKER
        )

    def gunicorn_boots(
        self, services: tuple[str, ...], *, since: datetime, until: datetime
    ) -> dict[str, int]:
        """Gunicorn workers (re)started per service between two instants, from their logs.

        A worker reaching gunicorn's max_requests is replaced by a fresh one, which imports the
        app and loads the model again: CPU and stalled requests that a load run pays for.
        """
        logs = self.compose(
            "logs", "--no-color", "--since", _rfc3339(since), "--until", _rfc3339(until), *services
        ).stdout
        boots: Counter[str] = Counter()
        for line in logs.splitlines():
            if _GUNICORN_BOOT in line:
                container = line.split("|", 1)[0].strip()  # e.g. "algorithm-1"
                boots[container.rsplit("-", 1)[0]] += 1
        return dict(boots)


def _rfc3339(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
