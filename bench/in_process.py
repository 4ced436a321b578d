"""The ML service's own pipeline and predict path, run in the bench's process.

`train_model` is the worker's training (recipes scored on hash-chosen evaluation rows, the best
refit on every row) without Postgres, the broker or publishing: the baseline of the training
rows, run with the service's thread count. `load_model` reads a published version, verified as
the API loads `current`. Either gives an `InProcessModel`, which predicts through the API's own
path and through scikit-learn's pipeline, for the predict-in-process rows:

    model.predict(["a text", ...])           # rows exactly as POST /predict returns them
    model.predict(["a text"], explain=5)     # ... with each prediction's 5 strongest terms
    model.predict_proba(["a text"])          # the service's fast path (what the API times)
    model.sklearn_predict_proba(["a text"])  # scikit-learn's pipeline call, for comparison

Pass one text per call to measure the per-request path, a list to measure a batch.
`shadow_cpu_per_prediction` measures what shadow scoring adds to an API process: the request's
sampling and hand-off plus the shadow thread's scoring, as CPU time of the whole process.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline

from bench.dataset import Row
from mlservice.api.shadow import ShadowScorer
from mlservice.config import Settings
from mlservice.ml import text_classifier
from mlservice.ml.predictors import Predictor, make_predictor, prediction_rows
from mlservice.store import artifacts


@dataclass(frozen=True)
class InProcessModel:
    vectorizer: Any
    classifier: Any
    version: str | None = None
    predictor: Predictor = field(init=False)
    pipeline: Pipeline = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "predictor", make_predictor(self.vectorizer, self.classifier))
        object.__setattr__(self, "pipeline", make_pipeline(self.vectorizer, self.classifier))

    @property
    def labels(self) -> list[str]:
        return self.predictor.labels

    def predict(self, texts: Sequence[str], *, explain: int | None = None) -> list[dict[str, Any]]:
        return prediction_rows(self.labels, self.predictor.analyse(list(texts), explain=explain))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predictor.predict_proba(list(texts))

    def sklearn_predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict_proba(list(texts))


def load_model(
    models_dir: str | Path, *, signing_key: str, version: str | None = None
) -> InProcessModel:
    """A published version (default: the one `current` points at), verified before unpickling."""
    models_dir = Path(models_dir)
    version = version or artifacts.current_version(models_dir)
    if version is None:
        raise artifacts.VersionVanished(f"No model has been published in {models_dir}.")
    loaded = artifacts.load(models_dir, version, signing_key=signing_key)
    return InProcessModel(loaded.vectorizer, loaded.model, version=version)


def train_model(
    texts: Sequence[str], labels: Sequence[str], *, classifier: str = "linear_svc", n_jobs: int = 2
) -> InProcessModel:
    """Train like the worker does with its default settings (recipes evaluated on the
    hash-chosen quarter of the rows within the recipe budget, the best refit on all rows), in
    memory."""
    defaults = Settings()
    trained = text_classifier.train(
        texts,
        labels,
        classifier=classifier,
        n_jobs=n_jobs,
        recipe_budget_seconds=defaults.train_recipe_budget_seconds,
        max_features=defaults.train_max_features,
        max_model_bytes=defaults.model_max_bytes,
        refit_max_rows=defaults.train_refit_max_rows or None,
    )
    return InProcessModel(trained.vectorizer, trained.classifier)


def train(rows: list[Row], *, classifier: str) -> tuple[InProcessModel, float]:
    """(the trained model, seconds)."""
    texts = [text for text, _ in rows]
    labels = [label for _, label in rows]
    started = time.perf_counter()
    model = train_model(texts, labels, classifier=classifier, n_jobs=Settings().train_n_jobs)
    return model, time.perf_counter() - started


def tfidf_matrix_bytes(rows: list[Row], *, classifier: str) -> int:
    """Bytes of the TF-IDF matrix (CSR: values, column indices, row pointers) of all `rows`."""
    spec = text_classifier.get_spec(classifier)
    matrix = TfidfVectorizer(**spec.vectorizer_params).fit_transform(text for text, _ in rows)
    return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes


def text_bytes(rows: list[Row]) -> int:
    """Bytes of the texts as Python strings: what the worker holds before vectorizing."""
    return sum(sys.getsizeof(text) for text, _ in rows)


def shadow_cpu_per_prediction(
    model: InProcessModel, texts: Sequence[str], *, share: float, database_url: str | None = None
) -> tuple[float, float]:
    """(CPU seconds per single-text prediction without shadow scoring, with it at `share`).

    The API's path (`analyse` and the answer's rows) for each text, one call each; with shadow
    scoring, `ShadowScorer.submit` after it, a waiting candidate (the same model, signed and
    installed as a version) and the scorer's thread, whose CPU counts too: the process's CPU
    time is read after the queue is drained. Agreement is flushed to `database_url` (the
    default `Settings` one if None; a failed flush is logged, as in the API).
    """
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="bench-shadow-") as folder:
        models_dir = Path(folder)
        version, files = artifacts.signed_files(
            model=model.classifier,
            vectorizer=model.vectorizer,
            metadata={"job_id": "bench", "labels": model.labels},
            signing_key=key,
        )
        artifacts.install(models_dir, version, files)
        artifacts.point_candidate(models_dir, version)
        overrides: dict[str, Any] = {"models_dir": models_dir, "model_signing_key": key}
        if database_url is not None:
            overrides["database_url"] = database_url
        scorer = ShadowScorer(Settings(shadow_share=share, **overrides))

        def answer(text: str) -> list[dict[str, Any]]:
            return prediction_rows(model.labels, model.predictor.analyse([text]))

        def answer_and_shadow(text: str) -> None:
            rows = answer(text)
            scorer.submit([text], [row["label"] for row in rows], "production")

        for text in texts[:20]:  # warm-up, and the candidate loaded once in the thread
            answer_and_shadow(text)
        scorer.drain()
        plain = _process_cpu_per_call(answer, texts, after=lambda: None)
        shadowed = _process_cpu_per_call(answer_and_shadow, texts, after=scorer.drain)
    return plain, shadowed


def _process_cpu_per_call(call, texts: Sequence[str], *, after) -> float:
    started = time.process_time()
    for text in texts:
        call(text)
    after()
    return (time.process_time() - started) / len(texts)
