from collections import Counter

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from mlservice.ml import CLASSIFIER_NAMES, text_classifier
from mlservice.ml.evaluation import evaluation_mask, is_evaluation_row, scores
from mlservice.ml.recipes import RECIPE_NAMES, get_recipes
from mlservice.ml.text_classifier import (
    CLASSIFIERS,
    TrainingDataError,
    build_pipeline,
    split_rare_labels,
    train,
)
from tests.support import sample

METRIC_KEYS = {
    "accuracy",
    "precision_weighted",
    "recall_weighted",
    "f1_macro",
    "n_train",
    "n_test",
    "recipe",
    "refit",
}
# Tests that are not about the choice of features train the cheapest recipe only.
WORD = ("word",)


def _columns(rows):
    return [t for t, _ in rows], [y for _, y in rows]


def test_every_configurable_classifier_has_a_pipeline():
    assert set(CLASSIFIERS) == set(CLASSIFIER_NAMES)
    for name in CLASSIFIER_NAMES:
        assert [step for step, _ in build_pipeline(name).steps] == ["vectorizer", "classifier"]


def test_unknown_classifier_is_rejected():
    with pytest.raises(ValueError, match="Unknown classifier"):
        build_pipeline("random_forest")


def test_a_random_real_sample_with_rare_labels_trains(trained_model):
    # The 1,500-row sample holds labels with a single row: they are left out, not fatal.
    assert trained_model.n_samples == 1500
    assert trained_model.excluded_labels
    assert all(count < 2 for count in trained_model.excluded_labels.values())
    assert not set(trained_model.excluded_labels) & set(trained_model.labels)
    assert len(trained_model.labels) > 30


def test_metrics_come_from_the_held_out_quarter(trained_model):
    metrics = trained_model.metrics
    assert set(metrics) == METRIC_KEYS
    held_out = sum(evaluation_mask(range(1500)))
    assert metrics["n_test"] == held_out
    assert 0.22 * 1500 < held_out < 0.28 * 1500
    assert metrics["n_train"] <= 1500 - held_out
    for name in ("accuracy", "precision_weighted", "recall_weighted", "f1_macro"):
        assert 0.0 <= metrics[name] <= 1.0
    # Far above chance (~0.1 for the biggest label) on real descriptions.
    assert metrics["accuracy"] > 0.5


def test_the_published_model_is_refit_on_all_rows(corpus, trained_model):
    texts, labels = _columns(sample(corpus, 1500, seed=7))  # the trained_model fixture's rows
    kept_texts, _, _ = split_rare_labels(texts, labels, min_rows=2)
    (recipe,) = get_recipes((trained_model.metrics["recipe"],))
    assert not recipe.char_ngrams  # on this sample; the union is checked in test_predictors
    params = recipe.word_params({"sublinear_tf": True})
    all_rows_vocabulary = TfidfVectorizer(**params).fit(kept_texts).vocabulary_
    assert trained_model.vectorizer.vocabulary_ == all_rows_vocabulary
    classifier = trained_model.classifier
    assert list(classifier.classes_) == trained_model.labels
    assert classifier.calibrated_classifiers_[0].estimator.coef_.shape == (
        len(trained_model.labels),
        len(all_rows_vocabulary),
    )


def test_above_refit_max_rows_the_model_evaluated_on_the_training_split_is_kept(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    steps = []
    model = train(
        texts,
        labels,
        min_samples=20,
        recipes=WORD,
        refit_max_rows=299,
        on_progress=lambda *step: steps.append(step),
    )
    assert model.metrics["refit"] is False
    assert model.n_samples == model.metrics["n_train"] < 300
    assert model.parameters["refit_max_rows"] == 299
    held_out = evaluation_mask(range(300))
    training_texts = [t for t, out in zip(texts, held_out, strict=True) if not out]
    kept, _, _ = split_rare_labels(
        training_texts, [y for y, out in zip(labels, held_out, strict=True) if not out], 2
    )
    vocabulary = TfidfVectorizer(sublinear_tf=True).fit(kept).vocabulary_
    assert model.vectorizer.vocabulary_ == vocabulary
    assert steps == [("fitting", 0, 2), ("evaluating", None, None)]  # no final fit
    # The same rows and model as the evaluation: its predictions are the evaluation's.
    refit = train(texts, labels, min_samples=20, recipes=WORD, refit_max_rows=300)
    assert refit.metrics["refit"] is True
    assert refit.n_samples == 300
    assert {k: v for k, v in model.metrics.items() if k != "refit"} == {
        k: v for k, v in refit.metrics.items() if k != "refit"
    }


def test_the_evaluation_rows_are_predicted_in_batches(corpus, trained_model, monkeypatch):
    # All at once, a million-row table's quarter held every row's decision values together (an
    # SVC baseline's, one per label pair, were the run's peak): a batch at a time, the same labels.
    texts, labels = _columns(sample(corpus, 400, seed=5))
    batch_sizes = []
    predict = Pipeline.predict

    def recording_predict(self, texts, **params):
        batch_sizes.append(len(texts))
        return predict(self, texts, **params)

    monkeypatch.setattr(text_classifier, "PREDICT_BATCH_ROWS", 30)
    monkeypatch.setattr(Pipeline, "predict", recording_predict)
    baseline = trained_model.holdout
    model = train(texts, labels, min_samples=20, recipes=WORD, baseline=baseline)

    n_test = model.metrics["n_test"]
    assert n_test > 60
    # The recipe's predictions, then the baseline's: every evaluation row, at most 30 at a time.
    assert sum(batch_sizes) == 2 * n_test
    assert max(batch_sizes) == 30
    held_out = evaluation_mask(range(400))
    test_texts = [t for t, out in zip(texts, held_out, strict=True) if out]
    test_labels = [y for y, out in zip(labels, held_out, strict=True) if out]
    for fitted, scored in ((model.holdout, model.metrics), (baseline, model.baseline_evaluation)):
        all_at_once = [str(label) for label in predict(fitted, test_texts)]
        assert scored["f1_macro"] == scores(test_labels, all_at_once)["f1_macro"]


def test_parameters_name_the_classifier_and_its_hyper_parameters(trained_model):
    parameters = trained_model.parameters
    assert parameters["classifier"] == "linear_svc"
    assert parameters["estimator"]["class"] == "LinearSVC"
    assert parameters["calibration"] == {
        "class": "CalibratedClassifierCV",
        "method": "sigmoid",
        "cv": 2,
        "ensemble": False,
    }
    assert parameters["evaluation_share"] == 0.25
    assert parameters["recipe"] == trained_model.metrics["recipe"]
    assert parameters["vectorizer"]["class"] == "TfidfVectorizer"


def test_training_is_deterministic(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    first = train(texts, labels, min_samples=20, recipes=("word", "word_punct"))
    second = train(texts, labels, min_samples=20, recipes=("word", "word_punct"))
    assert first.metrics == second.metrics
    assert first.evaluation == second.evaluation


def test_training_reports_each_step_in_order(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    steps = []
    train(
        texts,
        labels,
        min_samples=20,
        recipes=("word", "word_punct"),
        on_progress=lambda *step: steps.append(step),
    )
    assert steps == [
        ("fitting", 0, 3),
        ("evaluating", None, None),
        ("fitting", 1, 3),
        ("evaluating", None, None),
        ("fitting", 2, 3),
    ]


def test_the_original_svc_algorithm_still_trains(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=5))
    model = train(texts, labels, classifier="svc", min_samples=20, recipes=WORD)
    assert model.parameters["estimator"] == {"class": "SVC", "kernel": "linear"}
    assert model.parameters["calibration"]["cv"] == 5
    assert all(count < 5 for count in model.excluded_labels.values())
    assert model.metrics["n_test"] == sum(evaluation_mask(range(300)))


def test_too_few_rows_fail_with_a_clear_error(corpus):
    texts, labels = _columns(corpus[:19])
    with pytest.raises(TrainingDataError, match="at least 20 rows"):
        train(texts, labels, min_samples=20)


def test_a_single_label_fails_with_a_clear_error():
    texts = [f"package number {i} provides a library" for i in range(40)]
    with pytest.raises(TrainingDataError, match="at least 2 distinct labels"):
        train(texts, ["libs"] * 40, min_samples=20)


def test_labels_too_rare_for_calibration_everywhere_fail_with_a_clear_error():
    texts = [f"description {i}" for i in range(30)]
    labels = ["libs"] * 29 + ["zope"]  # zope cannot fill both calibration folds
    with pytest.raises(TrainingDataError, match="at least 2 labels with 2 or more rows"):
        train(texts, labels, min_samples=20)


def test_split_rare_labels_keeps_order_and_reports_counts():
    texts = ["a", "b", "c", "d", "e"]
    labels = ["x", "y", "x", "z", "x"]
    kept_texts, kept_labels, excluded = split_rare_labels(texts, labels, min_rows=2)
    assert kept_texts == ["a", "c", "e"]
    assert kept_labels == ["x", "x", "x"]
    assert excluded == {"y": 1, "z": 1}
    assert Counter(kept_labels) == {"x": 3}


def test_max_features_caps_the_vocabulary_and_keeps_plain_int_indices(corpus):
    rows = sample(corpus, 600, seed=5)
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    capped = train(texts, labels, max_features=300, recipes=WORD)
    assert len(capped.vectorizer.vocabulary_) == 300
    assert {type(index) for index in capped.vectorizer.vocabulary_.values()} == {int}
    assert capped.parameters["vectorizer"]["max_features"] == 300
    uncapped = train(texts, labels, max_features=10**6, recipes=WORD)  # above the vocabulary
    whole = train(texts, labels, recipes=WORD)
    assert uncapped.vectorizer.vocabulary_ == whole.vectorizer.vocabulary_
    assert uncapped.metrics == whole.metrics


def test_weights_over_max_model_bytes_are_refused_before_fitting(corpus):
    rows = sample(corpus, 600, seed=5)
    with pytest.raises(TrainingDataError, match="MODEL_MAX_BYTES=1,000"):
        train([t for t, _ in rows], [y for _, y in rows], max_model_bytes=1000, recipes=WORD)


# --- the recipe chosen by the data ---------------------------------------------------------------


def test_every_recipe_is_evaluated_and_the_best_macro_f1_wins(trained_model):
    record = trained_model.recipes
    assert [c["name"] for c in record["candidates"]] == list(RECIPE_NAMES)
    assert all(c["status"] == "evaluated" for c in record["candidates"])
    best = max(record["candidates"], key=lambda c: c["f1_macro"])
    assert record["selected"] == best["name"] == trained_model.metrics["recipe"]
    assert record["metric"] == "f1_macro"
    assert record["score"] == best["f1_macro"] == trained_model.metrics["f1_macro"]
    assert record["note"] is None
    assert "recipe_note" not in trained_model.metrics


class _FakeClock:
    """Each fit takes `fit_seconds` of this clock's time: the budget logic without timing."""

    def __init__(self, fit_seconds: float) -> None:
        self.now = 0.0
        self.fit_seconds = fit_seconds
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.now

    def on_progress(self, phase, done, total):
        if phase == "fitting":
            self.now += self.fit_seconds


def test_a_recipe_estimated_beyond_the_budget_is_skipped_and_the_job_says_so(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    clock = _FakeClock(fit_seconds=2.0)
    # word: 2 s; word_punct estimated 2.4 s (ends at 4.4 s, within 30 s); word_char estimated
    # 40 s: beyond.
    model = train(
        texts,
        labels,
        recipe_budget_seconds=30,
        clock=clock,
        on_progress=clock.on_progress,
    )
    statuses = {c["name"]: c["status"] for c in model.recipes["candidates"]}
    assert statuses == {"word": "evaluated", "word_punct": "evaluated", "word_char": "skipped"}
    skipped = model.recipes["candidates"][2]
    assert "40.0 s" in skipped["reason"]
    assert "f1_macro" not in skipped
    assert "word_char" in model.metrics["recipe_note"]
    assert "TRAIN_RECIPE_BUDGET_SECONDS=30" in model.metrics["recipe_note"]
    assert model.recipes["budget_seconds"] == 30


def test_a_table_too_large_for_the_budget_falls_back_to_the_cheapest_recipe(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    clock = _FakeClock(fit_seconds=50.0)
    model = train(
        texts, labels, recipe_budget_seconds=60, clock=clock, on_progress=clock.on_progress
    )
    assert model.metrics["recipe"] == "word"
    assert [c["status"] for c in model.recipes["candidates"]] == ["evaluated", "skipped", "skipped"]
    assert model.metrics["recipe_note"].endswith("fell back to the cheapest recipe.")


def test_a_recipe_too_large_for_model_max_bytes_is_skipped(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    word_only = train(texts, labels, recipes=WORD)
    n_labels = len(word_only.labels)
    n_terms = len(word_only.vectorizer.vocabulary_)
    # Room for the word vocabulary of every row (the final fit), not for character n-grams.
    cap = n_labels * n_terms * 8
    model = train(texts, labels, recipes=("word", "word_char"), max_model_bytes=cap)
    candidates = {c["name"]: c for c in model.recipes["candidates"]}
    assert candidates["word"]["status"] == "evaluated"
    assert candidates["word_char"]["status"] == "skipped"
    assert "MODEL_MAX_BYTES" in candidates["word_char"]["reason"]
    assert model.metrics["recipe"] == "word"


def test_the_evaluation_rows_are_a_pure_function_of_the_row_ids():
    ids = range(10_000)
    mask = evaluation_mask(ids)
    assert mask == evaluation_mask(ids)
    assert 0.23 < sum(mask) / len(mask) < 0.27
    # A row keeps its side however many rows there are, and in any order.
    assert evaluation_mask(reversed(ids)) == mask[::-1]
    assert [is_evaluation_row(i) for i in (17, 4242)] == [mask[17], mask[4242]]


def test_training_evaluates_on_the_rows_whose_ids_hash_into_the_hold_out(corpus):
    rows = sample(corpus, 300, seed=3)
    texts, labels = _columns(rows)
    ids = [1000 + 7 * i for i in range(len(rows))]
    model = train(texts, labels, row_ids=ids, recipes=WORD)
    held_out = [y for y, i in zip(labels, ids, strict=True) if is_evaluation_row(i)]
    assert model.metrics["n_test"] == len(held_out)
    support = {label: r["support"] for label, r in model.evaluation["per_label"].items()}
    assert {label: n for label, n in support.items() if n} == dict(Counter(held_out))


# --- per-label quality ------------------------------------------------------------------------


def test_each_label_has_precision_recall_f1_support_and_a_confusion_row(trained_model):
    report = trained_model.evaluation
    per_label = report["per_label"]
    confusion = report["confusion_matrix"]
    assert confusion["labels"] == sorted(per_label)
    matrix = confusion["matrix"]
    assert len(matrix) == len(confusion["labels"])
    assert sum(map(sum, matrix)) == trained_model.metrics["n_test"]
    for i, label in enumerate(confusion["labels"]):
        row = per_label[label]
        assert set(row) == {"precision", "recall", "f1", "support"}
        assert row["support"] == sum(matrix[i])
        if row["support"]:
            assert row["recall"] == matrix[i][i] / row["support"]
        predicted = sum(line[i] for line in matrix)
        if predicted:
            assert row["precision"] == matrix[i][i] / predicted
    # Macro-F1 over the labels with rows in the evaluation (as scikit-learn's f1_score counts).
    f1s = [r["f1"] for r in per_label.values()]
    assert abs(sum(f1s) / len(f1s) - trained_model.metrics["f1_macro"]) < 1e-12


def test_per_label_report_on_a_small_table():
    from mlservice.ml.evaluation import per_label_report

    report = per_label_report(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert report["confusion_matrix"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[1, 1, 0], [0, 1, 0], [0, 1, 0]],
    }
    assert report["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert report["per_label"]["b"]["precision"] == 1 / 3
    assert report["per_label"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
