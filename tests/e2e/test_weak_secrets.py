"""The prod overlay refuses to start with development secrets, naming each one.

The values are the ones .env.example and the compose defaults used to ship: what a deployment
gets from `cp .env.example .env` and filling in only what compose insists on. Cheap: nothing
stays up; a stack of its own, removed with its volumes.
"""

import os

import pytest

from harness import Stack

DEVELOPMENT_VALUES = {
    "DJANGO_SECRET_KEY": "change-me",
    "DJANGO_ALLOWED_HOSTS": "localhost",
    "POSTGRES_PASSWORD": "textclf",
    "WEB_DATABASE_PASSWORD": "textclf_web",
    "ML_DATABASE_PASSWORD": "textclf_ml",
    "REDIS_PASSWORD": "textclf",
    "ADMIN_PASSWORD": "admin",
    "ML_SERVICE_TOKEN": "dev-ml-service-token",
    "MODEL_SIGNING_KEY": "dev-model-signing-key",
    "OPS_PASSWORD": "ops",
    "FLOWER_PASSWORD": "ops",
    "GRAFANA_ADMIN_PASSWORD": "admin",
}


@pytest.fixture(scope="module")
def weak_stack(profile):
    if profile != "prod":
        pytest.skip("a promise of docker-compose.prod.yml")
    stack = Stack(
        project=f"{os.environ.get('E2E_PROJECT', 'textclf-e2e-prod')}-weak",
        http_port=int(os.environ.get("E2E_HTTP_PORT", "18081")),
        compose_files=("docker-compose.yml", "docker-compose.prod.yml"),
        env={
            **DEVELOPMENT_VALUES,
            # A subnet of its own, so it can coexist with the session's prod stack.
            "EDGE_SUBNET": "10.250.249.0/24",
        },
    )
    stack.down(volumes=True)
    yield stack
    stack.down(volumes=True)


def test_nothing_holding_a_secret_starts(weak_stack):
    # compose's own exit status is not to be trusted on every engine (see tests/harness): the
    # containers' states are what count.
    weak_stack.compose("up", "-d", "--build", "web", check=False)

    checker = weak_stack.compose("ps", "-a", "-q", "secrets_check").stdout.strip()
    assert _exit_code(weak_stack, checker) == 1
    logs = weak_stack.logs("secrets_check")
    for name in (
        "POSTGRES_PASSWORD is a development value",
        "WEB_DATABASE_PASSWORD is a development value",
        "ML_DATABASE_PASSWORD is a development value",
        "REDIS_PASSWORD is a development value",
        "ML_SERVICE_TOKEN is a development value",
        "MODEL_SIGNING_KEY is a development value",
        "OPS_PASSWORD is a development value",
        "FLOWER_PASSWORD is a development value",
        "GRAFANA_ADMIN_PASSWORD is a development value",
    ):
        assert name in logs, logs
    running = weak_stack.compose("ps", "--status", "running", "--services").stdout.split()
    assert running == []


@pytest.mark.parametrize(
    ("service", "messages"),
    [
        (
            "web_migrate",
            (
                "DJANGO_SECRET_KEY must be at least 50 characters",
                "ML_SERVICE_TOKEN is a development value",
                "DATABASE_URL's password (or DATABASE_PASSWORD) is a development value",
                "WEB_DATABASE_PASSWORD is a development value",
                "ADMIN_PASSWORD is a development value",
                "CACHE_URL's password is a development value",
            ),
        ),
        (
            "web",
            (
                "DJANGO_SECRET_KEY",
                "DATABASE_URL's password (or DATABASE_PASSWORD)",
                "CACHE_URL's password",
            ),
        ),
        ("algorithm_migrate", ("ML_SERVICE_TOKEN", "MODEL_SIGNING_KEY", "DATABASE_URL's password")),
        ("algorithm", ("ML_SERVICE_TOKEN", "MODEL_SIGNING_KEY", "DATABASE_URL's password")),
        ("algorithm_celery", ("MODEL_SIGNING_KEY", "CELERY_BROKER_URL's password")),
    ],
)
def test_our_services_refuse_them_on_their_own(weak_stack, service, messages):
    # Started alone, past secrets_check, as a deployment without it would start them.
    name = f"{weak_stack.project}-alone-{service}"
    weak_stack.run("docker", "rm", "-f", name, check=False)
    weak_stack.compose("run", "-d", "--no-deps", "--name", name, service, check=False)
    try:
        weak_stack.run("docker", "wait", name, check=False, timeout=120)
        exit_code = _exit_code(weak_stack, name)
        logs = weak_stack.run("docker", "logs", name, check=False)
    finally:
        weak_stack.run("docker", "rm", "-f", name, check=False)

    assert exit_code != 0
    output = logs.stdout + logs.stderr
    for message in messages:
        assert message in output, output[-3000:]


def _exit_code(stack: Stack, container: str) -> int:
    state = stack.run(
        "docker", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container
    )
    status, code = state.stdout.split()
    assert status == "exited", state.stdout
    return int(code)
