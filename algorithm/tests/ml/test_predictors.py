import numpy as np
import pytest

from mlservice.ml.predictors import LinearPredictor, SklearnPredictor, make_predictor
from mlservice.ml.text_classifier import train
from tests.helpers import sample


@pytest.fixture(scope="module")
def held_out_texts(corpus):
    return [text for text, _ in sample(corpus, 200, seed=99)]


def test_linear_predictor_matches_sklearn_predict_proba(trained_model, held_out_texts):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    reference = SklearnPredictor(trained_model.vectorizer, trained_model.classifier)
    assert isinstance(fast, LinearPredictor)
    assert fast.labels == reference.labels == trained_model.labels
    np.testing.assert_allclose(
        fast.predict_proba(held_out_texts),
        reference.predict_proba(held_out_texts),
        rtol=0,
        atol=1e-9,
    )


def test_probabilities_are_distributions(trained_model, held_out_texts):
    proba = make_predictor(trained_model.vectorizer, trained_model.classifier).predict_proba(
        held_out_texts
    )
    assert proba.shape == (len(held_out_texts), len(trained_model.labels))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_two_labels_use_the_binary_form(corpus):
    rows = [row for row in corpus if row[1] in ("python", "perl")][:200]
    model = train([t for t, _ in rows], [y for _, y in rows], min_samples=20)
    fast = make_predictor(model.vectorizer, model.classifier)
    texts = [t for t, _ in rows[:50]]
    assert isinstance(fast, LinearPredictor)
    assert fast.weights.shape[1] == 1
    np.testing.assert_allclose(
        fast.predict_proba(texts),
        SklearnPredictor(model.vectorizer, model.classifier).predict_proba(texts),
        rtol=0,
        atol=1e-9,
    )


def test_svc_falls_back_to_sklearn(corpus):
    rows = sample(corpus, 200, seed=11)
    model = train([t for t, _ in rows], [y for _, y in rows], classifier="svc", min_samples=20)
    predictor = make_predictor(model.vectorizer, model.classifier)
    assert isinstance(predictor, SklearnPredictor)
    assert predictor.predict_proba(["a text editor for the terminal"]).shape == (
        1,
        len(model.labels),
    )
