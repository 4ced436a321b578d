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
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "-p", self.project]
        for compose_file in self.compose_files:
            command += ["-f", compose_file]
        return subprocess.run(
            [*command, *args],
            cwd=REPO_ROOT,
            env={**os.environ, "HTTP_PORT": str(self.http_port), **self.env},
            check=True,
            timeout=timeout,
            capture_output=True,
            text=True,
        )

    def up(self) -> None:
        self.compose("up", "-d", "--build", "--wait", "--wait-timeout", "600")

    def restart(self) -> None:
        self.compose("restart")
        self.up()

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", *(["-v"] if volumes else []), "--remove-orphans")

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail=200").stdout
