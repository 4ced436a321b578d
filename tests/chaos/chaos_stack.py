"""The compose project that `make chaos` owns: its name, port, services, users and corpus.

Both the fault suite (conftest.py) and the load run (run_load.py) address the stack through this
module, built on the compose harness (tests/harness).
Run as a script it brings the stack up or removes it: `python tests/chaos/chaos_stack.py up|down`.
"""

from __future__ import annotations

import csv
import gzip
import os
import random
import sys
import time

from harness import DATA_CSV, Api, Stack

PROJECT = os.environ.get("CHAOS_PROJECT", "textclf-chaos")
HTTP_PORT = int(os.environ.get("CHAOS_HTTP_PORT", "18082"))
ADMIN_USERNAME = "chaos-admin"
ADMIN_PASSWORD = "chaos-admin-password"
CONSUMER_USERNAME = "chaos-consumer"
BULK_BATCH = 1000

# The application and what it needs; Flower and Prometheus are not under test here.
SERVICES = (
    "db",
    "redis",
    "web_migrate",
    "web",
    "algorithm_migrate",
    "algorithm",
    "algorithm_celery",
    "nginx",
)
# Makes the `models` volume a small tmpfs (tests/chaos/test_disk_full.py).
DISK_FULL_OVERRIDE = "tests/chaos/docker-compose.disk-full.yml"

ENV = {
    "ADMIN_USERNAME": ADMIN_USERNAME,
    "ADMIN_PASSWORD": ADMIN_PASSWORD,
    # Our own image tag, so a chaos build never replaces the images `make up` runs.
    "IMAGE_TAG": os.environ.get("CHAOS_IMAGE_TAG", "chaos"),
    # nginx's per-client limit is tested by tests/e2e/test_edge.py. Every request here comes from
    # one client address, and the load run sends more than the default 50 r/s allows, so the
    # limit is raised: a 429 would hide the outcome these tests look for.
    "NGINX_API_RATE": "400r/s",
    "NGINX_API_BURST": "800",
    "NGINX_ML_RATE": "400r/s",
    "NGINX_ML_BURST": "800",
}


def chaos_stack(*, disk_full: bool = False) -> Stack:
    files = ("docker-compose.yml", DISK_FULL_OVERRIDE) if disk_full else ("docker-compose.yml",)
    return Stack(
        project=PROJECT, http_port=HTTP_PORT, compose_files=files, services=SERVICES, env=ENV
    )


def admin_token(stack: Stack) -> str:
    response = Api(stack.base_url).post(
        "/api/auth/token/", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    response.raise_for_status()
    return response.json()["token"]


def consumer_token(stack: Stack, username: str = CONSUMER_USERNAME) -> str:
    """A new token of a non-staff API consumer (the user is created on first use)."""
    result = stack.exec("web", "python", "manage.py", "create_api_token", username)
    if result.returncode != 0:
        raise RuntimeError(f"create_api_token failed: {result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def read_corpus(seed: int = 6) -> list[dict]:
    """Every row of the real data set, in a fixed shuffled order."""
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        rows = [{"text": row["text"], "label": row["label"]} for row in csv.DictReader(handle)]
    random.Random(seed).shuffle(rows)
    return rows


def row_count(api: Api) -> int:
    response = api.get("/api/data/", params={"page_size": 1})
    response.raise_for_status()
    return response.json()["count"]


def load_rows(api: Api, corpus: list[dict], upto: int) -> int:
    """Bulk-load the corpus until the table holds at least `upto` rows; returns the count."""
    count = row_count(api)
    for start in range(count, min(upto, len(corpus)), BULK_BATCH):
        batch = corpus[start : min(start + BULK_BATCH, upto)]
        response = api.post("/api/data/", json=batch, timeout=120)
        if response.status_code != 201:
            raise RuntimeError(f"bulk load failed: {response.status_code} {response.text[:300]}")
    return row_count(api)


def train(api: Api, *, timeout: float = 900) -> dict:
    """Start a training (waiting out an active one first) and return the finished job; forced,
    so unchanged data is fitted again rather than skipped."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.post("/api/train/", json={"force": True})
        if response.status_code == 202:
            return api.wait_for_job(response.json()["job_id"], timeout=timeout)
        if response.status_code == 409 and time.monotonic() < deadline:
            api.wait_for_job(response.json()["job_id"], timeout=timeout)
            continue
        raise RuntimeError(f"POST /api/train/: {response.status_code} {response.text[:300]}")


def main(argv: list[str]) -> int:
    """`up`: build, start and wait (the harness raises with the failing services' logs);
    `down`: remove it with its volumes."""
    stack = chaos_stack()
    command = argv[1] if len(argv) > 1 else ""
    if command == "up":
        stack.up()
        Api(stack.base_url).wait_until_ready()
    elif command == "down":
        stack.down(volumes=True)
    else:
        print(f"usage: {argv[0]} up|down", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
