"""Train a TF-IDF + calibrated SVM text classifier: split, choose the features, refit on all rows.

The ML team's original is `svc`: TfidfVectorizer() defaults + SVC(kernel="linear",
probability=True). scikit-learn 1.9 deprecates `probability=True`; the documented equivalent is
CalibratedClassifierCV(SVC(kernel="linear"), method="sigmoid", cv=5, ensemble=False): out-of-fold
decision values fit one sigmoid per class, then the SVC is refit on all rows. SVC's training
time grows quadratically with the row count, so the default `linear_svc` swaps in liblinear's
LinearSVC (linear time) with 2 calibration folds: one fold per core, and on the Debian corpus its
held-out log loss is no worse than with 3 or 5 folds (0.663 / 0.667 / 0.670). With the word
recipe it trains all 63k rows twice (evaluation + refit) within the training target of
BENCHMARKS.md and leaves one linear model plus per-class sigmoids: the shape
`predictors.LinearPredictor` evaluates without scikit-learn's per-call overhead.

Rare labels: a calibration fold needs at least one row of every label, so a label with fewer rows
than folds in the rows being fitted is left out of that fit and reported in `excluded_labels`.
Held-out rows of such labels stay in the evaluation rows, so the metrics count them as errors.

Features: each recipe of `recipes.RECIPES` is fitted on the same training rows and scored on the
same evaluation rows (chosen by a hash of the row id, `evaluation.evaluation_mask`); the best
macro-F1 is refit on every row. TRAIN_RECIPE_BUDGET_SECONDS bounds the search.

Large tables: above `refit_max_rows` rows the refit on every row is left out and the model
evaluated on its training split (three quarters of the rows) is the one kept. On a million rows
the refit was the larger half of the work and of the peak memory (BENCHMARKS.md); what a
quarter more rows adds to accuracy at that size is small, and the metrics then describe the
very model that serves.

Caps: `max_features` keeps the TF-IDF's most frequent terms; `max_model_bytes` refuses a fit whose
linear model alone (one float64 weight per label and term) would exceed it, once the vocabulary
is known and before the classifier allocates those weights.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from joblib import parallel_config
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import SVC, LinearSVC
from threadpoolctl import threadpool_limits

from mlservice.ml.evaluation import EVALUATION_SHARE, evaluation_mask, per_label_report, scores
from mlservice.ml.recipes import RECIPES, Recipe, get_recipes

RANDOM_STATE = 0
MIN_LABELS = 2
# The score recipes compete on: every label counts alike, however rare.
SELECTION_METRIC = "f1_macro"
# Evaluation rows are predicted this many at a time: all at once, a large table's quarter held
# every row's decision values together, one per label pair for an SVC baseline (BENCHMARKS.md:
# the peak of a million-row run); a batch's are small.
PREDICT_BATCH_ROWS = 10_000


class TrainingDataError(ValueError):
    """The rows cannot train a model (too few rows or labels, or too large a model); the
    message says why."""


class ModelTooLarge(TrainingDataError):
    """The fitted vocabulary makes the weights exceed MODEL_MAX_BYTES."""


@dataclass(frozen=True)
class ClassifierSpec:
    """Everything that defines one classifier choice, as JSON-ready hyper-parameters."""

    vectorizer_params: dict[str, Any]
    estimator: str
    estimator_params: dict[str, Any]
    calibration_folds: int

    def build_pipeline(self, recipe: Recipe = RECIPES[0]) -> Pipeline:
        return Pipeline(
            [
                ("vectorizer", recipe.build_vectorizer(self.vectorizer_params)),
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

    def as_parameters(self, name: str, recipe: Recipe = RECIPES[0]) -> dict[str, Any]:
        return {
            "classifier": name,
            "recipe": recipe.name,
            "vectorizer": recipe.as_parameters(self.vectorizer_params),
            "estimator": {"class": self.estimator, **self.estimator_params},
            "calibration": {
                "class": "CalibratedClassifierCV",
                "method": "sigmoid",
                "cv": self.calibration_folds,
                "ensemble": False,
            },
            "min_rows_per_label": self.calibration_folds,
            "evaluation_rows": "blake2b hash of the row id",
            "evaluation_share": EVALUATION_SHARE,
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
    """A model fitted on all usable rows, with the scores of its evaluation.

    `recipes` records the choice of features: the winner, its score and every competitor's
    (or why it was not evaluated); `evaluation` the winner's per-label precision, recall, F1,
    support and confusion matrix on the evaluation rows.
    """

    vectorizer: TfidfVectorizer | FeatureUnion
    classifier: CalibratedClassifierCV
    labels: list[str]
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    n_samples: int
    excluded_labels: dict[str, int] = field(default_factory=dict)
    recipes: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    # The winning recipe fitted on the training rows only: a later training's promotion gate
    # scores it on evaluation rows it has never seen (the refit model has seen them all).
    holdout: Pipeline | None = None
    # The `baseline` given to `train`, scored on this training's evaluation rows:
    # {"f1_macro", ..., "per_label": {...}}; None without one.
    baseline_evaluation: dict[str, Any] | None = None


def get_spec(classifier: str) -> ClassifierSpec:
    try:
        return CLASSIFIERS[classifier]
    except KeyError:
        choices = ", ".join(CLASSIFIERS)
        raise ValueError(f"Unknown classifier {classifier!r}; choose one of: {choices}.") from None


def build_pipeline(classifier: str, recipe: str = "word") -> Pipeline:
    """An unfitted vectorizer + calibrated classifier pipeline for the named choices."""
    (chosen,) = get_recipes((recipe,))
    return get_spec(classifier).build_pipeline(chosen)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    row_ids: Sequence[int | str] | None = None,
    classifier: str = "linear_svc",
    recipes: tuple[str, ...] | None = None,
    recipe_budget_seconds: float | None = None,
    min_samples: int = 20,
    n_jobs: int = 1,
    max_features: int | None = None,
    max_model_bytes: int | None = None,
    refit_max_rows: int | None = None,
    on_progress: Callable[[str, int | None, int | None], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    baseline: Pipeline | None = None,
) -> TrainedModel:
    """Evaluate each recipe on the evaluation rows, then refit the best on every row.

    Evaluation rows: about a quarter, chosen by a hash of each row's id (`row_ids`, the table's
    primary keys; positions if None), so a row is on the same side in every training. Each
    recipe (all of `recipes.RECIPES` if None), cheapest first, is fitted on the other rows and
    scored on them; the best macro-F1 wins (the cheaper on a tie). `recipe_budget_seconds`
    bounds that search: the cheapest recipe always runs, and a further one is skipped when
    its estimated fit (the cheapest's measured time x its relative cost) would end after the
    budget; a large table thus falls back to the cheapest recipe, and `metrics["recipe_note"]`
    says so. A recipe whose weights would exceed `max_model_bytes` is skipped the same way.

    `on_progress(phase, done, total)` hears of each step: ("fitting", i, n + 1) before the
    i-th of n recipes, ("evaluating", None, None) after it, then ("fitting", n, n + 1) for the
    final model. The calibration folds inside one fit are not counted: CalibratedClassifierCV
    offers no hook.

    `baseline` (the production model's held-out fit, for the promotion gate) is scored on the
    same evaluation rows; its scores are `baseline_evaluation`.

    `n_jobs` threads fit the calibration folds in parallel (liblinear and libsvm release the
    GIL, and threads share the sparse matrix instead of copying it to worker processes). BLAS is
    held to one thread meanwhile: the per-class sigmoid fits make thousands of tiny BLAS calls,
    which OpenBLAS's thread hand-off makes about 4x slower.
    With more than `refit_max_rows` rows (None: no limit) the winner as evaluated, fitted on the
    training split, is kept instead of being refitted on every row (`metrics["refit"]` False,
    `n_samples` the rows it was fitted on), and ("fitting", n, n + 1) is not reported.
    Raises TrainingDataError when the rows cannot make a model, or when the cheapest recipe's
    weights would exceed `max_model_bytes` (checked once the vocabulary is fitted, before the
    classifier).
    """
    spec = get_spec(classifier).with_max_features(max_features)
    candidates = get_recipes(recipes)
    if not candidates:
        raise ValueError("At least one recipe is needed.")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    if row_ids is not None and len(row_ids) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(row_ids)} row ids.")
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
    held_out = evaluation_mask(range(len(texts)) if row_ids is None else row_ids)
    train_texts = [t for t, out in zip(texts, held_out, strict=True) if not out]
    train_labels = [y for y, out in zip(labels, held_out, strict=True) if not out]
    test_texts = [t for t, out in zip(texts, held_out, strict=True) if out]
    test_labels = [y for y, out in zip(labels, held_out, strict=True) if out]
    if not test_texts or not train_texts:
        raise TrainingDataError(
            f"The {len(texts)} rows leave no {'evaluation' if not test_texts else 'training'} "
            "rows (about a quarter of the rows, by a hash of their ids, evaluate); add rows."
        )

    selection = _select_recipe(
        spec,
        candidates,
        (train_texts, train_labels),
        (test_texts, test_labels),
        budget_seconds=recipe_budget_seconds,
        n_jobs=n_jobs,
        max_model_bytes=max_model_bytes,
        report=report,
        clock=clock,
    )
    winner = selection.winner
    metrics: dict[str, Any] = {
        **winner.scores,
        "n_train": winner.n_train,
        "n_test": len(test_texts),
        "recipe": winner.recipe.name,
    }
    if selection.note:
        metrics["recipe_note"] = selection.note
    baseline_evaluation = None
    if baseline is not None:
        baseline_predicted = predict_labels(baseline, test_texts)
        baseline_evaluation = {
            **scores(test_labels, baseline_predicted),
            **per_label_report(test_labels, baseline_predicted),
        }
        del baseline_predicted

    refit = refit_max_rows is None or len(texts) <= refit_max_rows
    metrics["refit"] = refit
    if refit:
        report("fitting", len(candidates), len(candidates) + 1)
        final, excluded, _ = _fit(
            spec, winner.recipe, list(texts), list(labels), n_jobs, "data", max_model_bytes
        )
        n_samples = len(texts)
    else:
        assert winner.pipeline is not None  # noqa: S101 - the best keeps its pipeline
        final, excluded, n_samples = winner.pipeline, winner.excluded, winner.n_train
    fitted_classifier = final.named_steps["classifier"]
    return TrainedModel(
        vectorizer=final.named_steps["vectorizer"],
        classifier=fitted_classifier,
        labels=[str(label) for label in fitted_classifier.classes_],
        metrics=metrics,
        parameters={
            **spec.as_parameters(classifier, winner.recipe),
            "refit_max_rows": refit_max_rows,
        },
        n_samples=n_samples,
        excluded_labels=excluded,
        recipes=selection.record(recipe_budget_seconds),
        evaluation=per_label_report(test_labels, winner.predicted),
        holdout=winner.pipeline,
        baseline_evaluation=baseline_evaluation,
    )


@dataclass(frozen=True)
class _Evaluated:
    recipe: Recipe
    scores: dict[str, float]
    predicted: list[str]
    n_train: int
    fit_seconds: float
    excluded: dict[str, int]
    # Fitted on the training split, kept for the best recipe so far only (one fitted model in
    # memory at a time): the promotion gate's held-out fit, and the published model when there
    # is no refit.
    pipeline: Pipeline | None = None


@dataclass(frozen=True)
class _Selection:
    winner: _Evaluated
    candidates: list[dict[str, Any]]
    note: str | None

    def record(self, budget_seconds: float | None) -> dict[str, Any]:
        return {
            "selected": self.winner.recipe.name,
            "metric": SELECTION_METRIC,
            "score": self.winner.scores[SELECTION_METRIC],
            "budget_seconds": budget_seconds,
            "note": self.note,
            "candidates": self.candidates,
        }


def _select_recipe(
    spec: ClassifierSpec,
    candidates: tuple[Recipe, ...],
    training: tuple[list[str], list[str]],
    testing: tuple[list[str], list[str]],
    *,
    budget_seconds: float | None,
    n_jobs: int,
    max_model_bytes: int | None,
    report: Callable[[str, int | None, int | None], None],
    clock: Callable[[], float],
) -> _Selection:
    started = clock()
    evaluated: list[_Evaluated] = []
    best: _Evaluated | None = None
    records: list[dict[str, Any]] = []
    cut_by_budget: list[str] = []
    for index, recipe in enumerate(candidates):
        record: dict[str, Any] = {"name": recipe.name, "description": recipe.description}
        records.append(record)
        if evaluated and budget_seconds is not None:
            cheapest = evaluated[0]
            estimate = cheapest.fit_seconds * recipe.relative_cost / cheapest.recipe.relative_cost
            elapsed = clock() - started
            if elapsed + estimate > budget_seconds:
                record.update(
                    status="skipped",
                    reason=f"Its fit was estimated at {estimate:.1f} s after {elapsed:.1f} s "
                    f"spent: beyond the {budget_seconds:g} s budget.",
                )
                cut_by_budget.append(recipe.name)
                continue
        fit_started = clock()
        report("fitting", index, len(candidates) + 1)
        try:
            pipeline, excluded, n_train = _fit(
                spec, recipe, *training, n_jobs, "training split", max_model_bytes
            )
        except ModelTooLarge as exc:
            if not evaluated:
                raise  # every other recipe's vocabulary holds the cheapest one's terms
            record.update(status="skipped", reason=str(exc))
            continue
        fit_seconds = clock() - fit_started
        report("evaluating", None, None)
        predicted = predict_labels(pipeline, testing[0])
        result = _Evaluated(
            recipe, scores(testing[1], predicted), predicted, n_train, fit_seconds, excluded
        )
        # Strictly better only: the cheaper recipe wins a tie.
        if best is None or result.scores[SELECTION_METRIC] > best.scores[SELECTION_METRIC]:
            best = replace(result, pipeline=pipeline)
        del pipeline
        evaluated.append(result)
        record.update(status="evaluated", fit_seconds=round(fit_seconds, 3), **result.scores)
    winner = best
    note = None
    if cut_by_budget:
        note = (
            f"Not evaluated: {', '.join(cut_by_budget)} (estimated to end beyond "
            f"TRAIN_RECIPE_BUDGET_SECONDS={budget_seconds:g})"
            + ("; fell back to the cheapest recipe." if len(evaluated) == 1 else ".")
        )
    return _Selection(winner, records, note)


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
    recipe: Recipe,
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
    vectorizer = recipe.build_vectorizer(spec.vectorizer_params)
    features = vectorizer.fit_transform(kept_texts)
    # With max_features set, scikit-learn rebuilds the vocabulary with numpy integers, which
    # pickle to almost twice the size (3.0 vs 1.8 MB on the corpus); plain ints, same indices.
    parts = (
        [part for _, part in vectorizer.transformer_list] if recipe.char_ngrams else [vectorizer]
    )
    for part in parts:
        part.vocabulary_ = {term: int(index) for term, index in part.vocabulary_.items()}
    n_features = features.shape[1]
    weights = spec.weight_bytes(usable, n_features)
    if max_model_bytes is not None and weights is not None and weights > max_model_bytes:
        raise ModelTooLarge(
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
    return fitted_pipeline(vectorizer, classifier), excluded, len(kept_texts)


def predict_labels(pipeline: Pipeline, texts: Sequence[str]) -> list[str]:
    """`pipeline`'s label for each text, predicted PREDICT_BATCH_ROWS texts at a time."""
    return [
        str(label)
        for start in range(0, len(texts), PREDICT_BATCH_ROWS)
        for label in pipeline.predict(texts[start : start + PREDICT_BATCH_ROWS])
    ]


def fitted_pipeline(vectorizer: Any, classifier: Any) -> Pipeline:
    """A fitted vectorizer and classifier as the one predictor a training run fits."""
    return Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])


def _describe(excluded: dict[str, int], limit: int = 10) -> str:
    if not excluded:
        return "none"
    shown = ", ".join(f"{label!r} ({n})" for label, n in list(excluded.items())[:limit])
    more = len(excluded) - limit
    return shown + (f" and {more} more" if more > 0 else "")
