"""Fixtures of the fault suite: the chaos stack, its users, the real corpus, model references and
light background load. Modules run in the order of MODULE_ORDER: the disk-full module swaps the
models volume while the table is still small, the persistence module restarts everything last
and ends with `down -v` (the load run then prepares its own data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from background import BackgroundLoad
from chaos_stack import admin_token, chaos_stack, consumer_token, load_rows, read_corpus, train
from faults import ModelReferences
from harness import REPO_ROOT, Api

MODULE_ORDER = (
    "test_celery_settings",
    "test_access",
    "test_disk_full",
    "test_worker_loss",
    "test_redis_outage",
    "test_database_outage",
    "test_algorithm_outage",
    "test_single_flight",
    "test_model_activation",
    "test_model_integrity",
    "test_persistence",
)
PROBE_TEXTS = 8
REPORT = Path(os.environ.get("CHAOS_REPORT", REPO_ROOT / ".venv" / "chaos" / "last-run.json"))


def pytest_collection_modifyitems(items):
    def position(item):
        name = item.module.__name__
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=position)


_measured: dict[str, dict] = {}


@pytest.fixture
def measured(request):
    """A dict the test fills with the figures it measured; printed and saved after the run."""
    figures: dict = {}
    _measured[request.node.name] = figures
    return figures


def pytest_terminal_summary(terminalreporter):
    if not _measured:
        return
    terminalreporter.section("measured")
    for name, figures in _measured.items():
        terminalreporter.write_line(f"{name}: {json.dumps(figures, sort_keys=True)}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(_measured, indent=2, sort_keys=True))
    terminalreporter.write_line(f"(saved to {REPORT})")


@pytest.fixture(scope="session")
def stack():
    stack = chaos_stack()
    stack.up()  # `tests/chaos/run` already started it; this is a no-op then
    Api(stack.base_url).wait_until_ready()
    return stack


@pytest.fixture(scope="session")
def admin(stack) -> Api:
    """The staff user: may train and activate models."""
    return Api(stack.base_url, admin_token(stack))


@pytest.fixture(scope="session")
def consumer_key(stack) -> str:
    return consumer_token(stack)


@pytest.fixture(scope="session")
def consumer(stack, consumer_key) -> Api:
    """A non-staff API consumer: CRUD and predict only."""
    return Api(stack.base_url, consumer_key)


@pytest.fixture(scope="session")
def corpus() -> list[dict]:
    return read_corpus()


@pytest.fixture(scope="session")
def probe_texts(corpus) -> list[str]:
    return [row["text"] for row in corpus[-PROBE_TEXTS:]]


@pytest.fixture(scope="session")
def references(admin, probe_texts) -> ModelReferences:
    return ModelReferences(admin, probe_texts)


@pytest.fixture(scope="session")
def full_data(admin, corpus) -> int:
    """Every real row (63k) in the table: training then lasts long enough to be interrupted."""
    return load_rows(admin, corpus, len(corpus))


@pytest.fixture
def current_model(admin, full_data, references) -> str:
    """A model is current and served (trained on the full data when there is none)."""
    if admin.get("/api/models/").json()["current"] is None:
        job = train(admin)
        assert job["status"] == "succeeded", job
    return references.observe()


@pytest.fixture
def background(stack, consumer_key, probe_texts):
    load = BackgroundLoad(stack.base_url, consumer_key, probe_texts).start()
    yield load
    load.stop()
    server_errors = [c for c in load.calls() if c.status == 500]
    assert not server_errors, f"500s under background load: {server_errors[:5]}"
