"""The harness against a real engine: `running` waits for health and one-shots, names what failed
with its logs, and removes containers and volumes whatever happened."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest

from harness import Stack, StackError

COMPOSE_FILE = "tests/harness/tests/compose.yml"


@pytest.fixture
def stack() -> Stack:
    return Stack(project=f"textclf-harness-{os.getpid()}", compose_files=(COMPOSE_FILE,))


def leftovers(stack: Stack) -> list[str]:
    label = f"label=com.docker.compose.project={stack.project}"
    listed = [
        subprocess.run(
            ["docker", kind, "ls", "-q", "--filter", label], capture_output=True, text=True
        ).stdout.split()
        for kind in ("container", "volume", "network")
    ]
    return [name for names in listed for name in names]


def test_running_waits_for_health_and_one_shots_then_removes_everything(stack):
    server = dataclasses.replace(stack, services=("server",))
    with server.running():
        assert server.states() == {"server": "healthy", "setup": "exited (0)"}
        result = server.exec("server", "python", "-c", "print('inside')")
        assert (result.returncode, result.stdout) == (0, "inside\n")
        server.kill("server")
        assert server.health("server") == "exited (137)"
        server.up("server")
        assert server.health("server") == "healthy"
    assert leftovers(stack) == []


def test_a_failed_start_names_the_service_with_its_logs_and_is_removed(stack):
    failing = dataclasses.replace(stack, services=("server", "broken"))
    with pytest.raises(StackError) as raised, failing.running():
        pytest.fail("running() yielded a stack with a broken service")
    message = str(raised.value)
    assert "'broken': 'exited (3)'" in message
    assert "no settings file" in message  # its logs
    assert "'server'" not in message
    assert leftovers(stack) == []


def test_a_side_container_left_by_a_killed_run_does_not_break_the_next_start(stack):
    """A container a test ran beside the project holds its network; a run killed before its
    cleanup left one, and the next `up` failed on the network. `down` now removes it."""
    server = dataclasses.replace(stack, services=("server",))
    server.up()
    side = server.run(
        "docker", "run", "-d", *server.side_container_args(),
        "--network", f"{server.project}_default",
        os.environ.get("PYTHON_IMAGE", "python:3.11-slim-bookworm"),
        "python", "-c", "import time; time.sleep(3600)",
    ).stdout.strip()  # fmt: skip
    # No cleanup of `side` here: as when the run is killed. The next run starts from nothing.
    with server.running():
        assert server.states()["server"] == "healthy"
    assert leftovers(stack) == []
    gone = subprocess.run(["docker", "inspect", side], capture_output=True, text=True)
    assert gone.returncode != 0


def test_a_service_in_another_ones_network_namespace_has_that_ones_address(stack):
    both = dataclasses.replace(stack, services=("server", "sidecar"))
    with both.running():
        assert both.address("sidecar") == both.address("server")
