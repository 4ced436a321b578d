"""Session fixtures: one compose stack, one admin token, a loaded corpus and one trained model."""

from __future__ import annotations

import csv
import gzip
import os
import random
import secrets
import subprocess
import uuid
from dataclasses import dataclass

import pytest

from harness import DATA_CSV, REPO_ROOT, Api, Stack

ADMIN_USERNAME = "e2e-admin"
# Generated per run, as `make secrets` does for a deployment: the prod overlay refuses
# development values and anything shorter than 32 characters.
ADMIN_PASSWORD = secrets.token_urlsafe(24)
OPS_USER = "e2e-ops"
OPS_PASSWORD = secrets.token_urlsafe(32)
TRAIN_ROWS = 3000
HELD_OUT_ROWS = 300
BULK_BATCH = 1000


@dataclass(frozen=True)
class Corpus:
    train: list[dict]
    held_out: list[dict]


PROFILES = {
    # `make up`: the base file.
    "dev": {"compose_files": ("docker-compose.yml",), "env": {}},
    # The production overlay, over HTTPS on loopback with a certificate made for the run (as
    # `make cert` makes one): real secrets are required, so set them. Grafana has no image on
    # machines without a registry: every other service is started.
    "prod": {
        "compose_files": ("docker-compose.yml", "docker-compose.prod.yml"),
        "tls": True,
        "env": {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
            "WEB_DATABASE_PASSWORD": secrets.token_urlsafe(32),
            "ML_DATABASE_PASSWORD": secrets.token_urlsafe(32),
            "REDIS_PASSWORD": secrets.token_urlsafe(32),
            "ML_SERVICE_TOKEN": secrets.token_urlsafe(32),
            "MODEL_SIGNING_KEY": secrets.token_urlsafe(32),
            "FLOWER_PASSWORD": OPS_PASSWORD,
            "OPS_PASSWORD": OPS_PASSWORD,
            "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(32),
            # Override to run two prod-profile suites side by side.
            "EDGE_SUBNET": os.environ.get("E2E_EDGE_SUBNET", "10.250.251.0/24"),
        },
        "services": (
            "db",
            "redis",
            "web_migrate",
            "web",
            "algorithm_migrate",
            "algorithm",
            "algorithm_celery",
            "flower",
            "prometheus",
            "nginx",
        ),
    },
}


@pytest.fixture(scope="session")
def profile() -> str:
    return os.environ.get("E2E_PROFILE", "dev")


@pytest.fixture(scope="session")
def tls_files(profile, tmp_path_factory) -> dict[str, str]:
    """The certificate and key nginx serves in the prod profile, made by `make cert`'s script;
    the certificate (self-signed) is also what every client of this run trusts."""
    if not PROFILES[profile].get("tls"):
        return {}
    folder = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO_ROOT / "scripts" / "make-cert"), str(folder)], check=True)
    return {"TLS_CERT_FILE": str(folder / "tls.crt"), "TLS_KEY_FILE": str(folder / "tls.key")}


@pytest.fixture(scope="session")
def stack(profile, tls_files):
    settings = PROFILES[profile]
    http_port = int(os.environ.get("E2E_HTTP_PORT", "18080"))
    https_port = int(os.environ.get("E2E_HTTPS_PORT", http_port + 100)) if tls_files else None
    stack = Stack(
        project=os.environ.get("E2E_PROJECT", f"textclf-e2e-{profile}"),
        http_port=http_port,
        https_port=https_port,
        ca_file=tls_files.get("TLS_CERT_FILE"),
        compose_files=settings["compose_files"],
        services=settings.get("services", ()),
        env={
            "ADMIN_USERNAME": ADMIN_USERNAME,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "OPS_USER": OPS_USER,
            "FLOWER_USER": OPS_USER,
            "FLOWER_PASSWORD": OPS_PASSWORD,
            "OPS_PASSWORD": OPS_PASSWORD,
            **settings["env"],
            **tls_files,
        },
    )
    # Clients that are not an Api (plain `requests` calls) check the certificate too.
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    if stack.ca_file:
        os.environ["REQUESTS_CA_BUNDLE"] = stack.ca_file
    try:
        with stack.running(keep=os.environ.get("E2E_KEEP_STACK") == "1"):
            yield stack
    finally:
        if stack.ca_file:
            if ca_bundle is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = ca_bundle


@pytest.fixture(scope="session")
def ops_auth() -> tuple[str, str]:
    return (OPS_USER, OPS_PASSWORD)


@pytest.fixture(scope="session")
def token(stack) -> str:
    response = Api(stack.base_url, ca_file=stack.ca_file).post(
        "/api/auth/token/", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def api(stack, token) -> Api:
    return Api(stack.base_url, token, ca_file=stack.ca_file)


@pytest.fixture(scope="session")
def anonymous(stack) -> Api:
    return Api(stack.base_url, ca_file=stack.ca_file)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        rows = [{"text": row["text"], "label": row["label"]} for row in csv.DictReader(handle)]
    sample = random.Random(2).sample(rows, TRAIN_ROWS + HELD_OUT_ROWS)
    return Corpus(train=sample[:TRAIN_ROWS], held_out=sample[TRAIN_ROWS:])


@pytest.fixture(scope="session")
def loaded_corpus(stack, token, corpus) -> Corpus:
    api = Api(stack.base_url, token, ca_file=stack.ca_file)
    for start in range(0, len(corpus.train), BULK_BATCH):
        response = api.post("/api/data/", json=corpus.train[start : start + BULK_BATCH])
        assert response.status_code == 201, response.text[:500]
    return corpus


@pytest.fixture(scope="session")
def train_request_id() -> str:
    return f"e2e-train-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def trained_job(stack, token, loaded_corpus, train_request_id) -> dict:
    """A model fitted on the loaded corpus. Forced: a module that ran first may already have
    trained on the same rows, and unchanged data is otherwise skipped (no fit, no metrics)."""
    api = Api(stack.base_url, token, ca_file=stack.ca_file)
    response = api.post(
        "/api/train/", json={"force": True}, headers={"X-Request-ID": train_request_id}
    )
    assert response.status_code == 202, response.text
    job = api.wait_for_job(response.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["outcome"] == "promoted", job
    return job


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "disruptive: restarts or recreates the stack; runs after every other test"
    )


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
