"""The service's own predict path against scikit-learn's predict_proba, on real data."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from mlservice.ml.predictors import (
    Analysis,
    ExplanationUnavailable,
    LinearPredictor,
    SklearnPredictor,
    TfidfFeatures,
    UnionFeatures,
    make_predictor,
    prediction_rows,
)
from mlservice.ml.recipes import RECIPE_NAMES
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


def test_prediction_rows_shape_rows_like_the_api():
    analysis = Analysis(
        probabilities=np.array([[0.25, 0.75], [0.9, 0.1]]),
        n_terms=np.array([4, 3]),
        n_known=np.array([1, 0]),
    )
    assert prediction_rows(["a", "b"], analysis) == [
        {
            "label": "b",
            "probabilities": {"a": 0.25, "b": 0.75},
            "known_token_share": 0.25,
            "unknown": False,
        },
        {
            "label": "a",
            "probabilities": {"a": 0.9, "b": 0.1},
            "known_token_share": 0.0,
            "unknown": True,
        },
    ]
    refused = prediction_rows(["a", "b"], analysis, refuse_unknown=True)
    assert [row["label"] for row in refused] == ["b", None]
    assert refused[1]["probabilities"] == {"a": 0.9, "b": 0.1}


# --- every recipe on the fast path ------------------------------------------------------------


@pytest.fixture(scope="module", params=RECIPE_NAMES)
def recipe_model(request, corpus):
    """A linear_svc model of each recipe, on 500 real rows."""
    texts, labels = _columns(sample(corpus, 500, seed=21))
    return train(texts, labels, recipes=(request.param,), n_jobs=2)


def _columns(rows):
    return [t for t, _ in rows], [y for _, y in rows]


def test_every_recipe_is_replayed_exactly_alone_and_in_a_batch(recipe_model, corpus):
    fast = make_predictor(recipe_model.vectorizer, recipe_model.classifier)
    expected_features = (
        UnionFeatures if recipe_model.metrics["recipe"] == "word_char" else (TfidfFeatures)
    )
    assert isinstance(fast.features, expected_features)
    probe = [text for text, _ in sample(corpus, 200, seed=22)] + ODD_TEXTS
    expected = reference(recipe_model)(probe)
    np.testing.assert_allclose(fast.predict_proba(probe), expected, **EXACT)
    alone = np.vstack([fast.predict_proba([text]) for text in probe])
    np.testing.assert_allclose(alone, expected, **EXACT)
    matrix = fast.features.matrix(probe)
    assert abs(matrix - recipe_model.vectorizer.transform(probe)).max() <= EXACT["atol"]


def _sklearn_scores(model, texts) -> np.ndarray:
    """scikit-learn's decision scores of every label (two labels: -d and d)."""
    estimator = model.classifier.calibrated_classifiers_[0].estimator
    scores = estimator.decision_function(model.vectorizer.transform(texts))
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def test_explanation_weights_add_up_to_the_score_minus_the_intercept(recipe_model, corpus):
    fast = make_predictor(recipe_model.vectorizer, recipe_model.classifier)
    probe = [text for text, _ in sample(corpus, 50, seed=23)] + ODD_TEXTS
    analysis = fast.analyse(probe, explain=5)
    sklearn_scores = _sklearn_scores(recipe_model, probe)
    for i, explanation in enumerate(analysis.explanations):
        label = int(analysis.probabilities[i].argmax())
        assert explanation["label"] == fast.labels[label]
        weights = [term["weight"] for term in explanation["terms"]]
        assert len(weights) <= 5
        assert np.isclose(
            sum(weights) + explanation["others_weight"],
            explanation["score"] - explanation["intercept"],
            rtol=0,
            atol=1e-9,
        )
        # The score is the label's own decision score, as scikit-learn computes it.
        assert np.isclose(explanation["score"], sklearn_scores[i, label], rtol=0, atol=1e-9)
        magnitudes = [abs(w) for w in weights]
        assert magnitudes == sorted(magnitudes, reverse=True)


def test_every_weight_is_the_terms_coefficient_times_its_tfidf_value(recipe_model):
    fast = make_predictor(recipe_model.vectorizer, recipe_model.classifier)
    text = "a python library for parsing command line options"
    (explanation,) = fast.analyse([text], explain=20).explanations
    features = recipe_model.vectorizer.transform([text])
    names = list(recipe_model.vectorizer.get_feature_names_out())
    label = fast.labels.index(explanation["label"])
    coefficients = _coefficients(recipe_model, label)
    assert explanation["terms"]
    for term in explanation["terms"]:
        j = names.index(term["term"])
        assert np.isclose(term["weight"], coefficients[j] * features[0, j], rtol=0, atol=1e-12)


def _coefficients(model, label: int) -> np.ndarray:
    coef = model.classifier.calibrated_classifiers_[0].estimator.coef_
    if coef.shape[0] == 1:  # two labels: one row, for the second label
        return coef[0] if label == 1 else -coef[0]
    return coef[label]


def test_an_explanation_of_all_terms_leaves_nothing_over(trained_model):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    (explanation,) = fast.analyse(["python library"], explain=20).explanations
    assert len(explanation["terms"]) == 2
    assert explanation["others_weight"] == 0.0


def test_a_text_with_no_known_term_is_flagged_and_explained_by_the_intercept(trained_model):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    analysis = fast.analyse(["zzzzqqq xxyyzz", "a python library"], explain=3)
    assert analysis.n_known[1] > 0
    assert analysis.n_known[0] == 0
    assert analysis.n_terms[0] >= 1
    unknown = analysis.explanations[0]
    assert unknown["terms"] == []
    assert unknown["score"] == unknown["intercept"]


def test_known_token_share_counts_the_analyzers_terms(trained_model):
    fast = make_predictor(trained_model.vectorizer, trained_model.classifier)
    analyze = trained_model.vectorizer.build_analyzer()
    vocabulary = trained_model.vectorizer.vocabulary_
    text = "a python library zzzzqqq xxyyzz python"
    terms = analyze(text)
    (row,) = prediction_rows(fast.labels, fast.analyse([text]))
    assert row["known_token_share"] == sum(t in vocabulary for t in terms) / len(terms)
    assert 0 < row["known_token_share"] < 1
    assert row["unknown"] is False


def test_a_two_label_model_gives_a_foreign_text_a_confident_prior_and_flags_it(corpus):
    # The measured fact: with no term it knows, a text always gets the same label at a high
    # probability (the intercept's); the answer now says that nothing was recognised.
    rows = [row for row in corpus if row[1] in ("python", "perl")][:200]
    model = train(*_columns(rows), min_samples=20, recipes=("word",))
    fast = make_predictor(model.vectorizer, model.classifier)
    foreign = ["مكتبة بايثون 🐍 для разработки", "🐍🐍🐍", "Ein Werkzeug für Übersetzungen"]
    analysis = fast.analyse(foreign)
    assert np.all(analysis.probabilities.max(axis=1) > 0.9)
    assert len({tuple(row) for row in analysis.probabilities}) == 1  # the same answer for all
    rows_out = prediction_rows(fast.labels, analysis, refuse_unknown=True)
    assert all(row["unknown"] and row["known_token_share"] == 0.0 for row in rows_out)
    assert all(row["label"] is None for row in rows_out)
    known = prediction_rows(fast.labels, fast.analyse(["a perl module"]), refuse_unknown=True)
    assert known[0]["unknown"] is False
    assert known[0]["label"] is not None


def test_the_two_label_explanation_of_the_first_label_negates_the_weights(corpus):
    rows = [row for row in corpus if row[1] in ("python", "perl")][:200]
    model = train(*_columns(rows), min_samples=20, recipes=("word",))
    fast = make_predictor(model.vectorizer, model.classifier)
    texts = ["perl module for parsing", "python library for parsing"]
    analysis = fast.analyse(texts, explain=20)
    scores = _sklearn_scores(model, texts)
    for i, explanation in enumerate(analysis.explanations):
        label = fast.labels.index(explanation["label"])
        assert np.isclose(explanation["score"], scores[i, label], rtol=0, atol=1e-9)
    assert {e["label"] for e in analysis.explanations} == {"perl", "python"}


def test_svc_reports_coverage_but_cannot_explain(corpus):
    rows = sample(corpus, 200, seed=11)
    model = train(*_columns(rows), classifier="svc", min_samples=20, recipes=("word",))
    predictor = make_predictor(model.vectorizer, model.classifier)
    analysis = predictor.analyse(["zzzzqqq", "a text editor"])
    assert analysis.n_known[0] == 0
    assert analysis.n_known[1] > 0
    with pytest.raises(ExplanationUnavailable, match="linear_svc"):
        predictor.analyse(["a text editor"], explain=3)
