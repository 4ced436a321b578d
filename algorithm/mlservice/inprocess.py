"""In-process prediction through the API's own code path, for the benchmark and scripts.

    from mlservice.inprocess import load_model, train_model

    model = load_model("/models", signing_key=key)   # verified, as the API loads `current`
    model = train_model(texts, labels)               # or trained in memory, nothing written
    model.predict(["a text", ...])        # rows exactly as POST /predict returns them
    model.predict(["a text"], explain=5)  # ... with each prediction's 5 strongest terms
    model.predict_proba(["a text"])       # the service's fast path (what the API times)
    model.sklearn_predict_proba(["a text"])  # scikit-learn's pipeline call, for comparison

Pass one text per call to measure the per-request path, a list to measure a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline

from mlservice import artifacts
from mlservice.config import Settings
from mlservice.ml import text_classifier
from mlservice.ml.predictors import Predictor, make_predictor, prediction_rows


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
    )
    return InProcessModel(trained.vectorizer, trained.classifier)
