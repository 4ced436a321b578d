"""The bench's own compose project: the product's compose file plus bench/docker-compose.bench.yml.

The override publishes Postgres on a loopback port of its own (the product publishes nginx only)
and adds the peers' app; the bench raises the rate limits so that they do not cap the
measurements. `down -v` removes every container and volume.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bench.config import REPO_ROOT, BenchConfig

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
_NETWORKS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}},{{.Gateway}} {{end}}"
# Far above anything two cores can serve, so neither limiter shapes a measurement.
UNLIMITED_RATES = {
    "NGINX_API_RATE": "1000000r/s",
    "NGINX_API_BURST": "1000000",
    "NGINX_ML_RATE": "1000000r/s",
    "NGINX_ML_BURST": "1000000",
    "DRF_THROTTLE_USER": "100000000/min",
    "DRF_THROTTLE_ANON": "100000000/min",
}


class ComposeError(RuntimeError):
    """A docker compose command failed; the message ends with its output."""


@dataclass(frozen=True)
class Stack:
    config: BenchConfig

    # HTTP goes to the containers' own addresses on their bridge network, as traffic from
    # another host arrives (through the kernel's NAT), not to the loopback port nginx publishes:
    # Docker relays loopback connections through docker-proxy, a userland copy of every byte
    # that cost 0.13 ms of CPU per prediction on the bench's two cores (BENCHMARKS.md).
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
        return f"postgres://textclf:textclf@127.0.0.1:{self.config.db_port}/textclf"

    def compose(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "-p", self.config.project]
        for compose_file in COMPOSE_FILES:
            command += ["-f", compose_file]
        try:
            return subprocess.run(
                [*command, *args],
                cwd=REPO_ROOT,
                env={**os.environ, **self._env(), **(env or {})},
                check=True,
                timeout=timeout,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stdout + exc.stderr)[-4000:]
            raise ComposeError(f"docker compose {' '.join(args)} failed:\n{output}") from exc

    def up(self) -> None:
        self.compose("up", "-d", "--build", "--wait", "--wait-timeout", "600", *SERVICES)

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans")

    def recreate_worker(self, *, classifier: str) -> None:
        """A fresh training worker running `classifier` (the setting is read at start)."""
        self.compose(
            "up", "-d", "--no-deps", "--force-recreate", "--wait", "--wait-timeout", "300", WORKER,
            env={"CLASSIFIER": classifier},
        )  # fmt: skip

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def address(self, service: str) -> str:
        """The service container's IP on a network the host can reach (one with a gateway:
        the host has no route into `internal` networks)."""
        networks = subprocess.run(
            ["docker", "inspect", "--format", _NETWORKS_FORMAT, self.container_id(service)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for network in networks:
            address, gateway = network.split(",")
            if address and gateway:
                return address
        raise ComposeError(f"{service} is on no network the host can reach: {networks}")

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

    def _env(self) -> dict[str, str]:
        return {
            "HTTP_PORT": str(self.config.http_port),
            "BENCH_DB_PORT": str(self.config.db_port),
            "ADMIN_USERNAME": ADMIN_USERNAME,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ML_SERVICE_TOKEN": ML_SERVICE_TOKEN,
            "CLASSIFIER": "linear_svc",
            **UNLIMITED_RATES,
        }


def _rfc3339(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
