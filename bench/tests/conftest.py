"""The bench's in-process path against the ML service's own code: real corpus, no stack needed.

Run by `make test-bench` with algorithm/ on PYTHONPATH, as bench/run imports mlservice.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

# prometheus-client picks multiprocess mode when first imported (create_app below imports it).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-test-prometheus-"))

import pytest

from bench import dataset
from bench.config import BenchConfig
from bench.dataset import Row
from mlservice import create_app
from mlservice.config import Settings
from mlservice.ml import text_classifier
from mlservice.store import artifacts

TEST_SERVICE_TOKEN = "test-service-token"
TEST_SIGNING_KEY = "test-model-signing-key"


def sample(corpus: list[Row], size: int, seed: int) -> list[Row]:
    return random.Random(seed).sample(corpus, size)


@pytest.fixture(scope="session")
def corpus() -> list[Row]:
    return dataset.read_corpus(BenchConfig.from_env().data_csv)


@pytest.fixture(scope="session")
def trained_model(corpus) -> text_classifier.TrainedModel:
    rows = sample(corpus, 1500, seed=7)
    return text_classifier.train([t for t, _ in rows], [y for _, y in rows], n_jobs=2)


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def model_version(models_dir, trained_model) -> str:
    """`trained_model`, published (signed) as the current model of `models_dir`."""
    return artifacts.publish(
        models_dir,
        model=trained_model.classifier,
        vectorizer=trained_model.vectorizer,
        metadata={},
        keep=1,
        signing_key=TEST_SIGNING_KEY,
    )


@pytest.fixture
def client(models_dir, tmp_path):
    """The ML API in process (predictions touch neither Postgres nor the broker)."""
    app = create_app(
        Settings(
            models_dir=models_dir,
            model_signing_key=TEST_SIGNING_KEY,
            ml_service_token=TEST_SERVICE_TOKEN,
            prometheus_multiproc_dir=Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]),
            log_format="console",
        )
    )
    test_client = app.test_client()
    test_client.environ_base["HTTP_X_SERVICE_TOKEN"] = TEST_SERVICE_TOKEN
    return test_client
