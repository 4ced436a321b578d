"""Drive the compose stack under test: its own project name, its own port, removed afterwards."""

from __future__ import annotations

import os
import subprocess
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

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def environ(self) -> dict[str, str]:
        """What `docker compose` (and the project's scripts) need to address this stack."""
        return {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_FILE": ":".join(self.compose_files),
            "HTTP_PORT": str(self.http_port),
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
        self.compose(
            "up", "-d", "--build", "--wait", "--wait-timeout", "600", *(services or self.services)
        )

    def restart(self) -> None:
        self.compose("restart", *self.services)
        self.up()

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", *(["-v"] if volumes else []), "--remove-orphans")

    def logs(self, *services: str) -> str:
        return self.compose("logs", "--no-color", *services).stdout

    def exec(self, service: str, *command: str):
        """Run a command in a running service container; the caller checks returncode."""
        return self.compose("exec", "-T", service, *command, check=False, timeout=120)
