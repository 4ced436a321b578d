"""The drift signals' pure parts: OOV share, confidence, buckets, the training label mix."""

import numpy as np
import pytest

from mlservice.ml import drift


def test_oov_share_is_one_minus_the_known_share_and_one_for_a_text_without_terms():
    shares = drift.oov_shares(np.array([4, 4, 0, 3]), np.array([4, 1, 0, 0]))
    assert shares.tolist() == [0.0, 0.75, 1.0, 1.0]


def test_oov_share_matches_the_answers_known_token_share(trained_model):
    from mlservice.ml.predictors import make_predictor, prediction_rows

    predictor = make_predictor(trained_model.vectorizer, trained_model.classifier)
    texts = ["a python library", "😀🎉", "eine Bibliothek für Python", ""]
    analysis = predictor.analyse(texts)
    rows = prediction_rows(predictor.labels, analysis)
    shares = drift.oov_shares(analysis.n_terms, analysis.n_known)
    assert shares.tolist() == pytest.approx([1 - r["known_token_share"] for r in rows])
    assert shares[1] == 1.0  # emoji: no term at all, as `unknown` says


def test_confidence_is_each_texts_top_probability():
    probabilities = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    assert drift.top_probabilities(probabilities).tolist() == [0.7, 0.5]


def test_buckets_follow_prometheus_le_boundaries():
    bounds = (0.0, 0.5, 0.99, float("inf"))
    counts = drift.bucket_counts(np.array([0.0, 0.2, 0.5, 0.51, 0.99, 1.0, 1.0]), bounds)
    assert counts.tolist() == [1, 2, 2, 2]


def test_training_label_shares_come_from_the_evaluation_support_renormalised():
    metadata = {
        "evaluation": {
            "per_label": {
                "a": {"support": 30},
                "b": {"support": 10},
                "rare": {"support": 10},  # excluded from the model: it cannot be predicted
            }
        }
    }
    assert drift.training_label_shares(["a", "b", "c"], metadata) == {
        "a": 0.75,
        "b": 0.25,
        "c": 0.0,
    }


@pytest.mark.parametrize("metadata", [{}, {"evaluation": {}}, {"evaluation": {"per_label": {}}}])
def test_a_version_without_evaluation_has_no_training_label_mix(metadata):
    assert drift.training_label_shares(["a", "b"], metadata) == {}


def test_a_trained_models_shares_cover_its_labels_and_sum_to_one(trained_model):
    metadata = {"evaluation": trained_model.evaluation}
    shares = drift.training_label_shares(trained_model.labels, metadata)
    assert set(shares) == set(trained_model.labels)
    assert sum(shares.values()) == pytest.approx(1.0)
