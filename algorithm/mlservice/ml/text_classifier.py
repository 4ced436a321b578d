"""Train a TF-IDF + calibrated SVM text classifier: split, fit, evaluate, refit on all rows.

The ML team's original is `svc`: TfidfVectorizer() defaults + SVC(kernel="linear",
probability=True). scikit-learn 1.9 deprecates `probability=True`; the documented equivalent is
CalibratedClassifierCV(SVC(kernel="linear"), method="sigmoid", cv=5, ensemble=False): out-of-fold
decision values fit one sigmoid per class, then the SVC is refit on all rows. SVC's training
time grows quadratically with the row count, so the default `linear_svc` swaps in liblinear's
LinearSVC (linear time) with 2 calibration folds: one fold per core, and on the Debian corpus its
held-out log loss is no worse than with 3 or 5 folds (0.663 / 0.667 / 0.670). It trains all 63k
rows twice (evaluation + refit) within the training target of BENCHMARKS.md and leaves one
linear model plus per-class sigmoids: the shape `predictors.LinearPredictor` evaluates without
scikit-learn's per-call overhead.

Rare labels: a calibration fold needs at least one row of every label, so a label with fewer rows
than folds in the rows being fitted is left out of that fit and reported in `excluded_labels`.
Held-out rows of such labels stay in the test split, so the metrics count them as errors.

Caps: `max_features` keeps the TF-IDF's most frequent terms; `max_model_bytes` refuses a fit whose
linear model alone (one float64 weight per label and term) would exceed it, once the vocabulary
is known and before the classifier allocates those weights.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from joblib import parallel_config
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC
from threadpoolctl import threadpool_limits

TEST_SIZE = 0.25
RANDOM_STATE = 0
MIN_LABELS = 2


class TrainingDataError(ValueError):
    """The rows cannot train a model (too few rows or labels, or too large a model); the
    message says why."""


@dataclass(frozen=True)
class ClassifierSpec:
    """Everything that defines one classifier choice, as JSON-ready hyper-parameters."""

    vectorizer_params: dict[str, Any]
    estimator: str
    estimator_params: dict[str, Any]
    calibration_folds: int

    def build_pipeline(self) -> Pipeline:
        return Pipeline(
            [
                ("vectorizer", TfidfVectorizer(**self.vectorizer_params)),
                ("classifier", self.build_classifier()),
            ]
        )

    def build_classifier(self) -> CalibratedClassifierCV:
        estimator_class = {"LinearSVC": LinearSVC, "SVC": SVC}[self.estimator]
        return CalibratedClassifierCV(
            estimator_class(**self.estimator_params),
            method="sigmoid",
            cv=self.calibration_folds,
            ensemble=False,
        )

    def with_max_features(self, max_features: int | None) -> ClassifierSpec:
        if max_features is None:
            return self
        return replace(
            self, vectorizer_params={**self.vectorizer_params, "max_features": max_features}
        )

    def weight_bytes(self, n_labels: int, n_features: int) -> int | None:
        """The fitted linear model's weights (dense, float64: one per label per term, one row
        for two labels), or None for estimators whose size the vocabulary does not predict."""
        if self.estimator != "LinearSVC":
            return None
        return (1 if n_labels == 2 else n_labels) * n_features * 8

    def as_parameters(self, name: str) -> dict[str, Any]:
        return {
            "classifier": name,
            "vectorizer": {"class": "TfidfVectorizer", **self.vectorizer_params},
            "estimator": {"class": self.estimator, **self.estimator_params},
            "calibration": {
                "class": "CalibratedClassifierCV",
                "method": "sigmoid",
                "cv": self.calibration_folds,
                "ensemble": False,
            },
            "min_rows_per_label": self.calibration_folds,
            "test_size": TEST_SIZE,
            "random_state": RANDOM_STATE,
        }


CLASSIFIERS: dict[str, ClassifierSpec] = {
    # sublinear_tf damps the long descriptions (up to 80k characters) and gains ~0.8 points of
    # accuracy on the Debian corpus; dual=True is pinned because dual="auto" picks the primal
    # solver when rows outnumber terms, which is ~3x slower on sparse TF-IDF.
    "linear_svc": ClassifierSpec(
        vectorizer_params={"sublinear_tf": True},
        estimator="LinearSVC",
        estimator_params={"C": 1.0, "dual": True, "random_state": RANDOM_STATE},
        calibration_folds=2,
    ),
    "svc": ClassifierSpec(
        vectorizer_params={},
        estimator="SVC",
        estimator_params={"kernel": "linear"},
        calibration_folds=5,
    ),
}


@dataclass(frozen=True)
class TrainedModel:
    """A model fitted on all usable rows, with the metrics of its held-out evaluation."""

    vectorizer: TfidfVectorizer
    classifier: CalibratedClassifierCV
    labels: list[str]
    metrics: dict[str, float | int]
    parameters: dict[str, Any]
    n_samples: int
    excluded_labels: dict[str, int] = field(default_factory=dict)


def get_spec(classifier: str) -> ClassifierSpec:
    try:
        return CLASSIFIERS[classifier]
    except KeyError:
        choices = ", ".join(CLASSIFIERS)
        raise ValueError(f"Unknown classifier {classifier!r}; choose one of: {choices}.") from None


def build_pipeline(classifier: str) -> Pipeline:
    """An unfitted vectorizer + calibrated classifier pipeline for the named choice."""
    return get_spec(classifier).build_pipeline()


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    classifier: str = "linear_svc",
    min_samples: int = 20,
    n_jobs: int = 1,
    max_features: int | None = None,
    max_model_bytes: int | None = None,
    on_progress: Callable[[str, int | None, int | None], None] | None = None,
) -> TrainedModel:
    """Evaluate on a 75/25 split (random_state=0), then refit on every row.

    `on_progress(phase, done, total)` hears of each step: ("fitting", 0, 2) for the model of the
    training split, ("evaluating", None, None), then ("fitting", 1, 2) for the final model.
    The calibration folds inside one fit are not counted: CalibratedClassifierCV offers no hook.

    `n_jobs` threads fit the calibration folds in parallel (liblinear and libsvm release the
    GIL, and threads share the sparse matrix instead of copying it to worker processes). BLAS is
    held to one thread meanwhile: the per-class sigmoid fits make thousands of tiny BLAS calls,
    which OpenBLAS's thread hand-off makes about 4x slower.
    Raises TrainingDataError when the rows cannot make a model, or when its weights would exceed
    `max_model_bytes` (checked once the vocabulary is fitted, before the classifier).
    """
    spec = get_spec(classifier).with_max_features(max_features)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    if len(texts) < min_samples:
        raise TrainingDataError(
            f"Training needs at least {min_samples} rows; the data table has {len(texts)}."
        )
    distinct = len(set(labels))
    if distinct < MIN_LABELS:
        raise TrainingDataError(
            f"Training needs at least {MIN_LABELS} distinct labels; the data has {distinct}."
        )

    report = on_progress or (lambda phase, done, total: None)
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        list(texts), list(labels), test_size=TEST_SIZE, random_state=RANDOM_STATE
    )
    report("fitting", 0, 2)
    evaluated, _, n_train = _fit(
        spec, train_texts, train_labels, n_jobs, "training split", max_model_bytes
    )
    report("evaluating", None, None)
    metrics = evaluate(evaluated, test_texts, test_labels)
    metrics.update(n_train=n_train, n_test=len(test_texts))

    report("fitting", 1, 2)
    final, excluded, _ = _fit(spec, list(texts), list(labels), n_jobs, "data", max_model_bytes)
    fitted_classifier = final.named_steps["classifier"]
    return TrainedModel(
        vectorizer=final.named_steps["vectorizer"],
        classifier=fitted_classifier,
        labels=[str(label) for label in fitted_classifier.classes_],
        metrics=metrics,
        parameters=spec.as_parameters(classifier),
        n_samples=len(texts),
        excluded_labels=excluded,
    )


def evaluate(pipeline: Pipeline, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Held-out scores; labels the model never predicts score zero instead of warning."""
    predicted = pipeline.predict(list(texts))
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "precision_weighted": float(
            precision_score(labels, predicted, average="weighted", zero_division=0)
        ),
        "recall_weighted": float(
            recall_score(labels, predicted, average="weighted", zero_division=0)
        ),
        "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }


def split_rare_labels(
    texts: Sequence[str], labels: Sequence[str], min_rows: int
) -> tuple[list[str], list[str], dict[str, int]]:
    """Rows of labels with at least `min_rows` rows, and {label: rows} of the ones left out."""
    counts = Counter(labels)
    excluded = {label: n for label, n in sorted(counts.items()) if n < min_rows}
    if not excluded:
        return list(texts), list(labels), {}
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if y not in excluded]
    return [t for t, _ in kept], [y for _, y in kept], excluded


def _fit(
    spec: ClassifierSpec,
    texts: list[str],
    labels: list[str],
    n_jobs: int,
    what: str,
    max_model_bytes: int | None = None,
) -> tuple[Pipeline, dict[str, int], int]:
    kept_texts, kept_labels, excluded = split_rare_labels(texts, labels, spec.calibration_folds)
    usable = len(set(kept_labels))
    if usable < MIN_LABELS:
        raise TrainingDataError(
            f"Training needs at least {MIN_LABELS} labels with {spec.calibration_folds} or more "
            f"rows each; the {what} has {usable} (left out: {_describe(excluded)})."
        )
    vectorizer = TfidfVectorizer(**spec.vectorizer_params)
    features = vectorizer.fit_transform(kept_texts)
    # With max_features set, scikit-learn rebuilds the vocabulary with numpy integers, which
    # pickle to almost twice the size (3.0 vs 1.8 MB on the corpus); plain ints, same indices.
    vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
    n_features = features.shape[1]
    weights = spec.weight_bytes(usable, n_features)
    if max_model_bytes is not None and weights is not None and weights > max_model_bytes:
        raise TrainingDataError(
            f"The model would be too large: {usable:,} labels x {n_features:,} terms need "
            f"{weights:,} bytes of weights; at most MODEL_MAX_BYTES={max_model_bytes:,} are "
            "allowed. Lower TRAIN_MAX_FEATURES or the number of labels."
        )
    classifier = spec.build_classifier()
    with (
        threadpool_limits(limits=1, user_api="blas"),
        parallel_config(backend="threading", n_jobs=n_jobs),
    ):
        classifier.fit(features, kept_labels)
    del features
    pipeline = Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])
    return pipeline, excluded, len(kept_texts)


def _describe(excluded: dict[str, int], limit: int = 10) -> str:
    if not excluded:
        return "none"
    shown = ", ".join(f"{label!r} ({n})" for label, n in list(excluded.items())[:limit])
    more = len(excluded) - limit
    return shown + (f" and {more} more" if more > 0 else "")
