from collections import Counter

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from mlservice.ml import CLASSIFIER_NAMES
from mlservice.ml.text_classifier import (
    CLASSIFIERS,
    TrainingDataError,
    build_pipeline,
    split_rare_labels,
    train,
)
from tests.support import sample

METRIC_KEYS = {"accuracy", "precision_weighted", "recall_weighted", "f1_macro", "n_train", "n_test"}


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
    assert metrics["n_test"] == 375  # 25 % of 1,500
    assert metrics["n_train"] <= 1125
    for name in ("accuracy", "precision_weighted", "recall_weighted", "f1_macro"):
        assert 0.0 <= metrics[name] <= 1.0
    # Far above chance (~0.1 for the biggest label) on real descriptions.
    assert metrics["accuracy"] > 0.5


def test_the_published_model_is_refit_on_all_rows(corpus, trained_model):
    texts, labels = _columns(sample(corpus, 1500, seed=7))  # the trained_model fixture's rows
    kept_texts, _, _ = split_rare_labels(texts, labels, min_rows=2)
    all_rows_vocabulary = TfidfVectorizer(sublinear_tf=True).fit(kept_texts).vocabulary_
    assert trained_model.vectorizer.vocabulary_ == all_rows_vocabulary
    classifier = trained_model.classifier
    assert list(classifier.classes_) == trained_model.labels
    assert classifier.calibrated_classifiers_[0].estimator.coef_.shape == (
        len(trained_model.labels),
        len(all_rows_vocabulary),
    )


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
    assert parameters["test_size"] == 0.25
    assert parameters["random_state"] == 0


def test_training_is_deterministic(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    first = train(texts, labels, min_samples=20)
    second = train(texts, labels, min_samples=20)
    assert first.metrics == second.metrics


def test_training_reports_each_step_in_order(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=3))
    steps = []
    train(texts, labels, min_samples=20, on_progress=lambda *step: steps.append(step))
    assert steps == [("fitting", 0, 2), ("evaluating", None, None), ("fitting", 1, 2)]


def test_the_original_svc_algorithm_still_trains(corpus):
    texts, labels = _columns(sample(corpus, 300, seed=5))
    model = train(texts, labels, classifier="svc", min_samples=20)
    assert model.parameters["estimator"] == {"class": "SVC", "kernel": "linear"}
    assert model.parameters["calibration"]["cv"] == 5
    assert all(count < 5 for count in model.excluded_labels.values())
    assert model.metrics["n_test"] == 75


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
    capped = train(texts, labels, max_features=300)
    assert len(capped.vectorizer.vocabulary_) == 300
    assert {type(index) for index in capped.vectorizer.vocabulary_.values()} == {int}
    assert capped.parameters["vectorizer"]["max_features"] == 300
    uncapped = train(texts, labels, max_features=10**6)  # above the vocabulary: the same model
    whole = train(texts, labels)
    assert uncapped.vectorizer.vocabulary_ == whole.vectorizer.vocabulary_
    assert uncapped.metrics == whole.metrics


def test_weights_over_max_model_bytes_are_refused_before_fitting(corpus):
    rows = sample(corpus, 600, seed=5)
    with pytest.raises(TrainingDataError, match="MODEL_MAX_BYTES=1,000"):
        train([t for t, _ in rows], [y for _, y in rows], max_model_bytes=1000)
