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
