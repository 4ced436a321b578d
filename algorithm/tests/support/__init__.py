"""Helpers, test doubles and process helpers shared by several test modules (fixtures live in
conftest.py)."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import psycopg
from werkzeug.serving import make_server

from mlservice.store import artifacts

T = TypeVar("T")

TEST_SERVICE_TOKEN = "test-service-token"
TEST_SIGNING_KEY = "test-model-signing-key"


def authenticated(test_client):
    """Make a Flask test client send X-Service-Token, as the web gateway does."""
    test_client.environ_base["HTTP_X_SERVICE_TOKEN"] = TEST_SERVICE_TOKEN
    return test_client


def sample(corpus: list[tuple[str, str]], size: int, seed: int) -> list[tuple[str, str]]:
    return random.Random(seed).sample(corpus, size)


def insert_rows(conn: psycopg.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """Add rows to `data` the way Django would, via COPY for speed."""
    with conn.cursor() as cur, cur.copy("COPY data (text, label) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def wait_for(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2) -> T:
    """Poll until `probe` returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve a Flask app over real HTTP on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def publish(models_dir, *, model, vectorizer, metadata=None, keep=5, **options) -> str:
    """artifacts.publish with the test signing key."""
    return artifacts.publish(
        models_dir,
        model=model,
        vectorizer=vectorizer,
        metadata=metadata or {},
        keep=keep,
        signing_key=TEST_SIGNING_KEY,
        **options,
    )


def publish_trained(models_dir, trained, *, keep=5, **metadata) -> str:
    """Publish a TrainedModel with the metadata the worker writes (overridable)."""
    return publish(
        models_dir,
        model=trained.classifier,
        vectorizer=trained.vectorizer,
        metadata={
            "job_id": "test-job",
            "n_samples": trained.n_samples,
            "labels": trained.labels,
            "excluded_labels": trained.excluded_labels,
            "metrics": trained.metrics,
            "parameters": trained.parameters,
            "recipes": trained.recipes,
            "evaluation": trained.evaluation,
            **metadata,
        },
        keep=keep,
    )
