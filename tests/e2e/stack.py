"""Drive the compose stack under test: its own project name, its own port, removed afterwards."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    project: str
    http_port: int
    compose_files: tuple[str, ...] = ("docker-compose.yml",)
    # Empty: every service. Otherwise only these (and what they depend on) are started.
    services: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Set when nginx terminates TLS (the prod overlay): the published HTTPS port and the
    # certificate clients verify it with (self-signed, so it is its own CA).
    https_port: int | None = None
    ca_file: str | None = None

    @property
    def base_url(self) -> str:
        if self.https_port:
            return f"https://127.0.0.1:{self.https_port}"
        return self.http_url

    @property
    def http_url(self) -> str:
        """Plain HTTP: the whole service without TLS, a redirect to `base_url` with it."""
        return f"http://127.0.0.1:{self.http_port}"

    def connect(self, *, timeout: float) -> socket.socket:
        """A raw connection to `base_url`, for requests no HTTP client would send."""
        sock = socket.create_connection(("127.0.0.1", self.https_port or self.http_port), timeout)
        if not self.https_port:
            return sock
        context = ssl.create_default_context(cafile=self.ca_file)
        return context.wrap_socket(sock, server_hostname="127.0.0.1")

    @property
    def environ(self) -> dict[str, str]:
        """What `docker compose` (and the project's scripts) need to address this stack."""
        return {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_FILE": ":".join(self.compose_files),
            "HTTP_PORT": str(self.http_port),
            **({"HTTPS_PORT": str(self.https_port)} if self.https_port else {}),
            **self.env,
        }

    def run(self, *command: str, check: bool = True, timeout: float = 900):
        return subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=self.environ,
            check=check,
            timeout=timeout,
            capture_output=True,
            text=True,
        )

    def compose(self, *args: str, check: bool = True, timeout: float = 900):
        return self.run("docker", "compose", *args, check=check, timeout=timeout)

    def up(self, *services: str) -> None:
        wanted = services or self.services
        result = self.compose(
            "up", "-d", "--build", "--wait", "--wait-timeout", "600", *wanted, check=False
        )
        # compose's exit status is not to be trusted on every engine (a failed pull exits 0 with
        # compose 2.40 on engine 20.10), so check that the services really run.
        expected = set(wanted or self.compose("config", "--services").stdout.split())
        running = set(self.compose("ps", "--status", "running", "--services").stdout.split())
        one_shots = ("_migrate", "_init")
        missing = {name for name in expected - running if not name.endswith(one_shots)}
        if result.returncode != 0 or missing:
            raise RuntimeError(
                f"compose up left {sorted(missing)} not running:\n{result.stderr[-4000:]}"
            )

    def restart(self) -> None:
        self.compose("restart", *self.services)
        self.up()

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", *(["-v"] if volumes else []), "--remove-orphans")

    def logs(self, *services: str) -> str:
        return self.compose("logs", "--no-color", *services).stdout

    def lines_with(self, service: str, needle: str, *, timeout: float = 10) -> list[str]:
        """`service`'s log lines that hold `needle`, waited for: nginx, web and the ML API
        write their lines in batches, up to LOG_FLUSH_SECONDS (1 s) late."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.logs(service).splitlines() if needle in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.5)

    def exec(self, service: str, *command: str):
        """Run a command in a running service container; the caller checks returncode.

        `docker exec` on the container: `docker compose exec` reports exit status 0 for a failed
        command with some compose/engine pairs (compose 2.40 on engine 20.10, for one).
        """
        container = self.compose("ps", "-q", service).stdout.strip()
        assert container, f"{service} is not running"
        return self.run("docker", "exec", container, *command, check=False, timeout=120)
