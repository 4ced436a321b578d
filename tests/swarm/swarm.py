"""The swarm under test, driven from this machine: scripts/swarm for the rig, the manager's
engine API (published on loopback) for services, and each node's nginx on its own loopback port."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import harness
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "swarm"
PREFIX = os.environ.get("SWARM_PREFIX", "textclf-swarm")
NODES = int(os.environ.get("SWARM_NODES", "3"))
API_PORT = int(os.environ.get("SWARM_API_PORT", "18699"))
HTTP_PORT_BASE = int(os.environ.get("SWARM_HTTP_PORT_BASE", "18600"))
REGISTRY_PORT = int(os.environ.get("SWARM_REGISTRY_PORT", "18690"))
STACK = os.environ.get("SWARM_STACK", "textclf")
# The release deployed (tests/swarm/run names it; scripts/deploy release builds it).
RELEASE = os.environ.get("SWARM_RELEASE", f"{PREFIX}-test")
STATE_DIR = Path(os.environ.get("SWARM_STATE_DIR", f"/tmp/{PREFIX}"))
NODE_REGISTRY = "registry:5000"
HOST_REGISTRY = f"127.0.0.1:{REGISTRY_PORT}"
RIG_LABEL = f"textclf.swarm={PREFIX}"


def secret(name: str) -> str:
    """A secret's value as scripts/swarm generated it for the stack."""
    return (STATE_DIR / "secrets" / name).read_text().strip()


def admin() -> dict[str, str]:
    return {"username": "admin", "password": secret("admin_password")}


def ops_auth() -> tuple[str, str]:
    """nginx's operator login (Prometheus, Flower)."""
    return ("ops", secret("ops_password"))


def run(*args: str, check: bool = True, timeout: float = 900, **kwargs) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=timeout, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def rig(command: str, *args: str, timeout: float = 1800) -> str:
    return run(str(SCRIPT), command, *args, timeout=timeout)


def manager(*args: str, **kwargs) -> str:
    """The docker CLI against the swarm's manager (node1), never this machine's engine."""
    env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{API_PORT}"}
    return run("docker", *args, env=env, **kwargs)


def node_container(n: int) -> str:
    return f"{PREFIX}-node{n}"


def on_node(n: int, *args: str, **kwargs) -> str:
    return run("docker", "exec", node_container(n), "docker", *args, **kwargs)


def service(name: str) -> str:
    return f"{STACK}_{name}"


@dataclass(frozen=True)
class Task:
    id: str
    node: str
    state: str
    container: str | None


def running_tasks(name: str) -> list[Task]:
    """The service's tasks that are meant to run and do, with their node and container."""
    ids = manager(
        "service", "ps", service(name), "--filter", "desired-state=running", "-q", "--no-trunc"
    ).split()
    if not ids:
        return []
    tasks = json.loads(manager("inspect", "--type", "task", *ids))
    nodes = {
        node["ID"]: node["Description"]["Hostname"]
        for node in json.loads(manager("node", "inspect", *{t["NodeID"] for t in tasks}))
    }
    return [
        Task(
            id=t["ID"],
            node=nodes[t["NodeID"]],
            state=t["Status"]["State"],
            container=(t["Status"].get("ContainerStatus") or {}).get("ContainerID"),
        )
        for t in tasks
        if t["Status"]["State"] == "running"
    ]


def node_number(hostname: str) -> int:
    return int(hostname.removeprefix("node"))


def nginx_url(n: int) -> str:
    return f"http://127.0.0.1:{HTTP_PORT_BASE + n}"


def wait_until(predicate, *, timeout: float, interval: float = 1.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:g} s")
        time.sleep(interval)


# Asks the ML API in one task's container directly (its own gunicorn on 127.0.0.1:8000), so the
# answer names the version that replica serves, whichever node it runs on.
_REPLICA_PREDICT = """
import json, urllib.request
token = open('/run/secrets/ml_service_token').read().strip()
request = urllib.request.Request(
    'http://127.0.0.1:8000/predict',
    data=json.dumps({'text': 'a library for parsing XML'}).encode(),
    headers={'Content-Type': 'application/json', 'X-Service-Token': token})
print(json.load(urllib.request.urlopen(request, timeout=10)).get('model_version'))
"""


def replica_versions() -> dict[str, str]:
    """{"node2/<task id>": model version} for every running ML API task."""
    versions = {}
    for task in running_tasks("algorithm"):
        out = on_node(
            node_number(task.node),
            "exec",
            task.container,
            "python",
            "-c",
            _REPLICA_PREDICT,
            check=False,
        ).strip()
        versions[f"{task.node}/{task.id[:10]}"] = out or None
    return versions


class Api(harness.Api):
    """The harness's client; a training's poll tolerates a node going away mid-answer."""

    def wait_for_job(self, job_id: str, *, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(f"/api/train/{job_id}/")
            if response.status_code == 200 and response.json()["status"] in (
                "succeeded",
                "failed",
            ):
                return response.json()
            time.sleep(2)
        raise AssertionError(f"job {job_id} not finished after {timeout} s")


@dataclass
class LoadReport:
    requests: int
    failures: int
    longest_gap: float
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.requests} requests, {self.failures} failed, longest gap between answers "
            f"{self.longest_gap:.2f} s"
        )


class PredictionLoad:
    """Predictions through nginx from a few threads until stopped; counts every non-200."""

    def __init__(self, base_urls: list[str], token: str, *, threads: int = 2, pause: float = 0.1):
        self.base_urls = base_urls
        self.token = token
        self.threads = threads
        self.pause = pause
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._answered: list[float] = []
        self._failures: list[str] = []
        self._count = 0
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> PredictionLoad:
        self._started = time.monotonic()
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=90)
        self._ended = time.monotonic()

    def _run(self, index: int) -> None:
        api = Api(self.base_urls[index % len(self.base_urls)], self.token)
        while not self._stop.is_set():
            try:
                response = api.post(
                    "/api/predict/", json={"text": "a library for parsing XML"}, timeout=30
                )
                ok = response.status_code == 200 and "model_version" in response.json()
                error = None if ok else f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as exc:
                error = repr(exc)[:200]
            with self._lock:
                self._count += 1
                if error is None:
                    self._answered.append(time.monotonic())
                else:
                    self._failures.append(error)
            self._stop.wait(self.pause)

    def report(self) -> LoadReport:
        times = sorted([self._started, *self._answered, self._ended])
        gap = max(b - a for a, b in itertools.pairwise(times))
        return LoadReport(self._count, len(self._failures), gap, self._failures[:10])
