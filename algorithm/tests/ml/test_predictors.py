"""The service's own predict path against scikit-learn's predict_proba, on real data."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from mlservice.ml.predictors import (
    LinearPredictor,
    SklearnPredictor,
    TfidfFeatures,
    label_probabilities,
    make_predictor,
)
from mlservice.ml.text_classifier import train
from tests.support import sample

EXACT = {"rtol": 0, "atol": 1e-9}
# Texts the vectorizer has never seen in odd shapes: no known term at all, punctuation only,
# non-Latin scripts, emoji, one repeated term, and the corpus's longest description (below).
ODD_TEXTS = [
    "zzzzqqq xxyyzz",
    "!!! ... ???",
    "مكتبة بايثون 🐍 для разработки",
    "python " * 500,
    "A",
]


@pytest.fixture(scope="module")
def held_out_texts(corpus):
    longest = max((text for text, _ in corpus), key=len)
    return [text for text, _ in sample(corpus, 1000, seed=99)] + ODD_TEXTS + [longest]


def reference(model):
    """scikit-learn's own call: the fitted pipeline's predict_proba."""
    return make_pipeline(model.vectorizer, model.classifier).predict_proba


def test_the_fast_path_matches_sklearn_on_real_texts_one_at_a_time(trained_model, held_out_texts):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    assert isinstance(fast, LinearPredictor)
    assert fast.features is not None  # the custom vectorization, not sklearn's transform
    expected = reference(trained_model)(held_out_texts)
    one_by_one = np.vstack([fast.predict_proba([text]) for text in held_out_texts])
    np.testing.assert_allclose(one_by_one, expected, **EXACT)


def test_the_fast_path_matches_sklearn_on_a_real_batch(trained_model, held_out_texts):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    np.testing.assert_allclose(
        fast.predict_proba(held_out_texts), reference(trained_model)(held_out_texts), **EXACT
    )
    assert fast.labels == trained_model.labels


def test_a_text_scores_exactly_the_same_alone_or_in_a_batch(trained_model, held_out_texts):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    alone = np.vstack([fast.predict_proba([text]) for text in held_out_texts])
    assert np.array_equal(alone, fast.predict_proba(held_out_texts))


def test_the_features_equal_the_vectorizers(trained_model, held_out_texts):
    features = TfidfFeatures.from_fitted(trained_model.vectorizer)
    ours = features.matrix(held_out_texts)
    theirs = trained_model.vectorizer.transform(held_out_texts)
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() <= EXACT["atol"]


@pytest.mark.parametrize(
    "vectorizer_params",
    [
        {},
        {"sublinear_tf": True},
        {"binary": True},
        {"norm": "l1"},
        {"norm": None, "use_idf": False},
        {"ngram_range": (1, 2), "stop_words": "english", "lowercase": False},
        {"analyzer": "char_wb", "ngram_range": (2, 3)},
    ],
)
def test_every_vectorizer_setting_is_replayed_exactly(corpus, vectorizer_params):
    rows = sample(corpus, 600, seed=4)
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    counts = {label: labels.count(label) for label in labels}
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if counts[y] >= 2]
    pipeline = make_pipeline(
        TfidfVectorizer(**vectorizer_params),
        CalibratedClassifierCV(LinearSVC(dual=True), method="sigmoid", cv=2, ensemble=False),
    ).fit([t for t, _ in kept], [y for _, y in kept])
    fast = make_predictor(pipeline[0], pipeline[1])
    probe = [text for text, _ in sample(corpus, 100, seed=5)] + ODD_TEXTS
    np.testing.assert_allclose(fast.predict_proba(probe), pipeline.predict_proba(probe), **EXACT)
    np.testing.assert_allclose(
        fast.predict_proba(probe[:1]), pipeline.predict_proba(probe[:1]), **EXACT
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
    texts = [t for t, _ in rows[:50]] + ODD_TEXTS
    assert isinstance(fast, LinearPredictor)
    assert fast.weights.shape[1] == 1
    np.testing.assert_allclose(fast.predict_proba(texts), reference(model)(texts), **EXACT)
    np.testing.assert_allclose(fast.predict_proba(texts[:1]), reference(model)(texts[:1]), **EXACT)


def test_a_vectorizer_it_does_not_replay_falls_back_to_sklearns_transform(trained_model):
    class CustomVectorizer(TfidfVectorizer):
        pass

    custom = CustomVectorizer()
    custom.__dict__.update(trained_model.vectorizer.__dict__)
    fast = make_predictor(custom, trained_model.classifier)
    assert isinstance(fast, LinearPredictor)
    assert fast.features is None
    texts = ["a python library", "a text editor"]
    np.testing.assert_allclose(fast.predict_proba(texts), reference(trained_model)(texts), **EXACT)


def test_svc_falls_back_to_sklearn(corpus):
    rows = sample(corpus, 200, seed=11)
    model = train([t for t, _ in rows], [y for _, y in rows], classifier="svc", min_samples=20)
    predictor = make_predictor(model.vectorizer, model.classifier)
    assert isinstance(predictor, SklearnPredictor)
    assert predictor.predict_proba(["a text editor for the terminal"]).shape == (
        1,
        len(model.labels),
    )


def test_label_probabilities_shapes_rows_like_the_api():
    rows = label_probabilities(["a", "b"], np.array([[0.25, 0.75], [0.9, 0.1]]))
    assert rows == [
        {"label": "b", "probabilities": {"a": 0.25, "b": 0.75}},
        {"label": "a", "probabilities": {"a": 0.9, "b": 0.1}},
    ]
