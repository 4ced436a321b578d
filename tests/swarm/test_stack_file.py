"""The rendered stack file, without a swarm (seconds): the release's images, and every password and
key a Swarm secret read through NAME_FILE, none in a service's environment or command."""

from __future__ import annotations

import json
import os
import re
import subprocess
from urllib.parse import urlsplit

import pytest

import swarm

RELEASE = "0123456789ab"
# Variables that hold a password, key or token, whatever the service.
SECRET_NAME = re.compile(r"PASSWORD|SECRET_KEY|SIGNING_KEY|SERVICE_TOKEN|BASIC_AUTH")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[dict, dict[str, str], str]:
    state = tmp_path_factory.mktemp("swarm-state")
    env = {**os.environ, "SWARM_STATE_DIR": str(state), "SWARM_PREFIX": "textclf-render-test"}
    result = subprocess.run(
        [str(swarm.SCRIPT), "render", RELEASE],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    text = (state / "stack.yml").read_text()
    secrets = {path.name: path.read_text().strip() for path in (state / "secrets").iterdir()}
    # Parsed by the interpreter the rig renders with (its PyYAML), as JSON for this one.
    parsed = swarm.run(
        "python3",
        "-c",
        "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        input=text,
    )
    return json.loads(parsed), secrets, text


def test_the_services_run_the_release_from_the_registry(rendered):
    stack, _, _ = rendered
    released = ("web", "web_migrate", "algorithm", "algorithm_migrate", "algorithm_celery", "nginx")
    for name in released:
        image = stack["services"][name]["image"]
        assert re.fullmatch(rf"registry:5000/textclf-\w+:{RELEASE}", image), (name, image)


def test_no_secret_value_is_in_the_stack_file(rendered):
    _, secrets, text = rendered
    assert len(secrets) == 14, sorted(secrets)
    for name, value in secrets.items():
        assert len(value) >= 20, name
        assert value not in text, f"the value of {name} is in the stack file"


def test_no_password_key_or_token_is_in_an_environment(rendered):
    stack, _, _ = rendered
    for name, service in stack["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_FILE"):
                continue
            assert not SECRET_NAME.search(variable), (name, variable)
            if variable.endswith("_URL") and value and "://" in value:
                assert urlsplit(value).password is None, (name, variable, value)


def test_every_file_variable_names_a_secret_the_service_gets(rendered):
    stack, _, _ = rendered
    declared = set(stack["secrets"])
    for name, service in stack["services"].items():
        granted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        assert granted <= declared, name
        wanted = {
            value.removeprefix("/run/secrets/")
            for variable, value in (service.get("environment") or {}).items()
            if variable.endswith("_FILE")
        }
        command = " ".join(service.get("command") or [])
        wanted |= set(re.findall(r"/run/secrets/(\w+)", command))
        assert wanted == granted, (name, wanted, granted)


def test_nginx_publishes_its_own_port_in_swarm(rendered):
    """On one host nginx lives in edge_port's network namespace; Swarm's routing mesh holds the
    port instead, so the stack has no edge_port and nginx its own network and port."""
    stack, _, _ = rendered
    assert "edge_port" not in stack["services"]
    nginx = stack["services"]["nginx"]
    assert "network_mode" not in nginx
    assert list(nginx["networks"]) == ["edge"]
    assert [port["target"] for port in nginx["ports"]] == [80]
