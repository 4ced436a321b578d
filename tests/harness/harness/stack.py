"""One compose project under test: its own name, files, environment and ports; removed after."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# The package is installed editable, so this is the checkout it lives in.
REPO_ROOT = Path(__file__).resolve().parents[3]
# Tools and data beside the project (../shared): the corpus and the stand-in images.
SHARED = REPO_ROOT.parent / "shared"
DATA_CSV = Path(os.environ.get("DATA_CSV", SHARED / "data" / "debian-packages.csv.gz"))
# On machines without a registry, local stand-ins for the official images (the Makefile exports
# the same file); a value already in the environment wins.
STANDINS = SHARED / "docker" / "standins.env"

_NETWORKS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}},{{.Gateway}} {{end}}"
_LOG_LINES_ON_FAILURE = 60
# Containers a test starts beside a project with `docker run` carry this label with the
# project's name, so `down` removes them too: compose's --remove-orphans does not see them, and
# one left by a killed run would hold the project's network and break its next start.
SIDE_CONTAINER_LABEL = "textclf.harness.project"


class CommandError(subprocess.CalledProcessError):
    """A command exited non-zero; unlike its base class, its message ends with the output."""

    def __str__(self) -> str:
        output = ((self.stdout or "") + (self.stderr or ""))[-4000:]
        return f"{' '.join(map(str, self.cmd))} exited {self.returncode}:\n{output}"


class StackError(RuntimeError):
    """`up` left services not running or not healthy; the message holds their logs."""


@dataclass(frozen=True)
class Stack:
    project: str
    http_port: int | None = None
    compose_files: tuple[str, ...] = ("docker-compose.yml",)
    # Empty: every service. Otherwise only these (and what they depend on) are started.
    services: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # Set when nginx terminates TLS (the prod overlay): the published HTTPS port and the
    # certificate clients verify it with (self-signed, so it is its own CA).
    https_port: int | None = None
    ca_file: str | None = None

    # -- addresses

    @property
    def base_url(self) -> str:
        """Where a client reaches the service: HTTPS when nginx terminates TLS, else HTTP."""
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

    def address(self, service: str) -> str:
        """The service container's IP on a network the host can reach (one with a gateway: the
        host has no route into `internal` networks), for traffic that skips the published port.
        A container in another's network namespace (nginx in edge_port's) has that one's."""
        container = self.container_id(service)
        mode = self.run("docker", "inspect", "--format", "{{.HostConfig.NetworkMode}}", container)
        if mode.stdout.strip().startswith("container:"):
            container = mode.stdout.strip().removeprefix("container:")
        inspected = self.run("docker", "inspect", "--format", _NETWORKS_FORMAT, container)
        for network in inspected.stdout.split():
            ip, gateway = network.split(",")
            if ip and gateway:
                return ip
        raise StackError(f"{service} is on no network the host can reach: {inspected.stdout}")

    # -- commands

    @property
    def environ(self) -> dict[str, str]:
        """What `docker compose` (and the project's scripts) need to address this stack."""
        return {
            **_standin_images(),
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_FILE": ":".join(self.compose_files),
            **({"HTTP_PORT": str(self.http_port)} if self.http_port else {}),
            **({"HTTPS_PORT": str(self.https_port)} if self.https_port else {}),
            **self.env,
        }

    def run(
        self, *command: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        """Any command, from the repository root, with `environ`; raises CommandError when
        `check` and it fails."""
        result = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=self.environ,
            check=False,
            timeout=timeout,
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise CommandError(result.returncode, command, result.stdout, result.stderr)
        return result

    def compose(
        self, *args: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        return self.run("docker", "compose", *args, check=check, timeout=timeout)

    # -- lifecycle

    @contextmanager
    def running(self, *, keep: bool = False) -> Iterator[Stack]:
        """Up from nothing (a leftover of an interrupted run is removed first), then `down -v`
        whatever happens, unless `keep`."""
        self.down(volumes=True)
        try:
            self.up()
            yield self
        finally:
            if not keep:
                self.down(volumes=True)

    def up(self, *services: str, timeout: float = 600) -> None:
        """Build, start and wait until every wanted service is healthy (or, for one-shot
        services such as migrations, has exited 0); raises StackError naming the others, with
        their logs."""
        wanted = services or self.services
        self.compose(
            "up", "-d", "--build", "--wait", "--wait-timeout", str(int(timeout)), *wanted,
            check=False, timeout=timeout + 1200,
        )  # fmt: skip
        # compose's exit status is not to be trusted on every engine (a failed pull exits 0 with
        # compose 2.40 on engine 20.10), so each service's state is checked instead.
        config = json.loads(self.compose("config", "--format", "json").stdout)["services"]
        one_shots = {
            dependency
            for service in config.values()
            for dependency, condition in (service.get("depends_on") or {}).items()
            if condition.get("condition") == "service_completed_successfully"
        }
        states = self.states()
        failing = {}
        for service in wanted or config:
            state = states.get(service, "absent")
            ok = "exited (0)" if service in one_shots else "healthy"
            if state != ok and not (ok == "healthy" and state == "running"):
                failing[service] = state
        if failing:
            logs = self.compose("logs", "--no-color", "--tail", str(_LOG_LINES_ON_FAILURE),
                                *failing, check=False).stdout  # fmt: skip
            raise StackError(f"{self.project}: up left {failing}\n{logs}")

    def down(self, *, volumes: bool = False) -> None:
        """Remove the containers (side containers included) and networks; with `volumes` the
        data too (`down -v`)."""
        side = self.run(
            "docker", "ps", "-aq", "--filter", f"label={SIDE_CONTAINER_LABEL}={self.project}",
        ).stdout.split()  # fmt: skip
        if side:
            self.run("docker", "rm", "-f", *side)
        self.compose("down", *(["-v"] if volumes else []), "--remove-orphans")

    def side_container_args(self) -> tuple[str, ...]:
        """`docker run` arguments for a container started beside this project: `down` removes it."""
        return ("--label", f"{SIDE_CONTAINER_LABEL}={self.project}")

    def restart(self, *services: str) -> None:
        """`compose restart`, then wait as `up` does."""
        self.compose("restart", *(services or self.services))
        self.up(*services)

    def stop(self, *services: str) -> None:
        self.compose("stop", *services)

    def start(self, *services: str) -> None:
        """Start stopped services again, without waiting (`up` waits)."""
        self.compose("start", *services)

    def kill(self, service: str, signal: str = "SIGKILL") -> None:
        self.compose("kill", "--signal", signal, service)

    # -- inside

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def exec(self, service: str, *command: str, timeout: float = 120):
        """Run a command in a running service container; the caller checks returncode.

        `docker exec` on the container: `docker compose exec` reports exit status 0 for a failed
        command with some compose/engine pairs (compose 2.40 on engine 20.10, for one).
        """
        container = self.container_id(service)
        assert container, f"{service} is not running"
        return self.run("docker", "exec", container, *command, check=False, timeout=timeout)

    def states(self) -> dict[str, str]:
        """Each service's state: 'healthy', 'unhealthy', 'starting', 'running' (no health
        check), 'exited (<code>)', ...; services without a container are absent."""
        listed = self.compose("ps", "-a", "--format", "json").stdout
        states = {}
        for line in listed.splitlines():
            line = line.strip()
            entries = json.loads(line) if line else []
            for entry in entries if isinstance(entries, list) else [entries]:
                state = entry.get("State", "")
                if state == "exited":
                    state = f"exited ({entry.get('ExitCode')})"
                elif state == "running" and entry.get("Health"):
                    state = entry["Health"]
                states[entry["Service"]] = state
        return states

    def health(self, service: str) -> str:
        """One service's state, as in `states`, or 'absent'."""
        return self.states().get(service, "absent")

    def wait_healthy(self, *services: str, timeout: float = 180) -> float:
        """Wait until every named service is healthy; returns the seconds waited."""
        started = time.monotonic()
        while True:
            states = self.states()
            if all(states.get(service) == "healthy" for service in services):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise StackError(f"not healthy within {timeout} s: {states}")
            time.sleep(1)

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


def _standin_images() -> dict[str, str]:
    if not STANDINS.is_file():
        return {}
    pairs = (line.split("=", 1) for line in STANDINS.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}
