"""Session fixtures: one compose stack, one admin token, a loaded corpus and one trained model."""

from __future__ import annotations

import csv
import gzip
import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from api import Api
from stack import REPO_ROOT, Stack

DATA_CSV = Path(
    os.environ.get("DATA_CSV", REPO_ROOT.parent / "shared" / "data" / "debian-packages.csv.gz")
)
ADMIN_USERNAME = "e2e-admin"
ADMIN_PASSWORD = "e2e-admin-password"
TRAIN_ROWS = 3000
HELD_OUT_ROWS = 300
BULK_BATCH = 1000


@dataclass(frozen=True)
class Corpus:
    train: list[dict]
    held_out: list[dict]


@pytest.fixture(scope="session")
def stack():
    stack = Stack(
        project=os.environ.get("E2E_PROJECT", "textclf-e2e"),
        http_port=int(os.environ.get("E2E_HTTP_PORT", "18080")),
        compose_files=tuple(os.environ.get("E2E_COMPOSE_FILES", "docker-compose.yml").split(":")),
        env={"ADMIN_USERNAME": ADMIN_USERNAME, "ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    stack.down(volumes=True)  # a leftover from an interrupted run must not leak into this one
    stack.up()
    yield stack
    if os.environ.get("E2E_KEEP_STACK") != "1":
        stack.down(volumes=True)


@pytest.fixture(scope="session")
def token(stack) -> str:
    response = Api(stack.base_url).post(
        "/api/auth/token/", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def api(stack, token) -> Api:
    return Api(stack.base_url, token)


@pytest.fixture(scope="session")
def anonymous(stack) -> Api:
    return Api(stack.base_url)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        rows = [{"text": row["text"], "label": row["label"]} for row in csv.DictReader(handle)]
    sample = random.Random(2).sample(rows, TRAIN_ROWS + HELD_OUT_ROWS)
    return Corpus(train=sample[:TRAIN_ROWS], held_out=sample[TRAIN_ROWS:])


@pytest.fixture(scope="session")
def loaded_corpus(stack, token, corpus) -> Corpus:
    api = Api(stack.base_url, token)
    for start in range(0, len(corpus.train), BULK_BATCH):
        response = api.post("/api/data/", json=corpus.train[start : start + BULK_BATCH])
        assert response.status_code == 201, response.text[:500]
    return corpus


@pytest.fixture(scope="session")
def trained_job(stack, token, loaded_corpus) -> dict:
    api = Api(stack.base_url, token)
    response = api.post("/api/train/")
    assert response.status_code == 202, response.text
    job = api.wait_for_job(response.json()["job_id"])
    assert job["status"] == "succeeded", job
    return job


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "disruptive: restarts or recreates the stack; runs after every other test"
    )


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
