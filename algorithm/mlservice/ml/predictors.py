"""Turn a fitted vectorizer + calibrated classifier into label probabilities for new texts.

`make_predictor` prefers `LinearPredictor`: for CalibratedClassifierCV(ensemble=False) over a
linear model, predict_proba is one sparse-dense product, one sigmoid per class and a row
normalisation. Evaluating that directly returns the same numbers as scikit-learn (the tests hold
it to 1e-9 on real data) without its per-call validation and per-class Python loop. The TF-IDF
features come from `TfidfFeatures`, which replays the fitted vectorizer's arithmetic without
scikit-learn's per-call overhead (most of what a single text cost; BENCHMARKS.md): one text
goes straight from its terms to the weight rows they select; a batch becomes one sparse matrix
and one product. Anything else (the `svc` choice: SVC's decision values come from one-vs-one
votes) goes through scikit-learn's own predict_proba.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model._base import LinearClassifierMixin

# scikit-learn rounds probabilities that exceed 1 by at most this much down to exactly 1.
_PROBA_ROUNDING_SLACK = 1e-5


class Predictor(Protocol):
    labels: list[str]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Array (len(texts), len(labels)); each row sums to 1."""
        ...


class SklearnPredictor:
    def __init__(self, vectorizer, classifier) -> None:
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.labels = [str(label) for label in classifier.classes_]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(texts))


class TfidfFeatures:
    """A fitted TfidfVectorizer's transform, recomputed from its vocabulary and idf.

    Same steps as scikit-learn: the vectorizer's own analyzer (preprocessing, tokens, n-grams,
    stop words), counts of in-vocabulary terms (binary if set), 1 + log(tf) if sublinear_tf,
    times idf, then the row norm; terms in index order, as scikit-learn sums them.
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.n_features = len(vectorizer.vocabulary_)
        self.binary = vectorizer.binary
        self.sublinear_tf = vectorizer.sublinear_tf
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
        self.norm = vectorizer.norm

    @classmethod
    def from_fitted(cls, vectorizer: Any) -> TfidfFeatures | None:
        """None unless `vectorizer` is a TfidfVectorizer whose arithmetic this replays."""
        if type(vectorizer) is not TfidfVectorizer or not hasattr(vectorizer, "vocabulary_"):
            return None
        if vectorizer.norm not in ("l2", "l1", None) or vectorizer.dtype is not np.float64:
            return None
        return cls(vectorizer)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices ascending, tf-idf values) of one text."""
        indices, values, _ = self.rows([text])
        return indices, values

    def matrix(self, texts: Sequence[str]) -> csr_matrix:
        """The (len(texts), n_features) tf-idf matrix of a batch."""
        indices, values, indptr = self.rows(texts)
        return csr_matrix((values, indices, indptr), shape=(len(texts), self.n_features))

    def rows(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR parts (indices, values, indptr) of the batch: terms are counted per text, then
        weighted and normalised for the whole batch at once."""
        vocabulary, analyze = self.vocabulary, self.analyze
        all_indices: list[int] = []
        all_counts: list[int] = []
        indptr = [0]
        for text in texts:
            counts = Counter(j for term in analyze(text) if (j := vocabulary.get(term)) is not None)
            for j in sorted(counts):
                all_indices.append(j)
                all_counts.append(counts[j])
            indptr.append(len(all_indices))
        indices = np.array(all_indices, dtype=np.intp)
        values = np.array(all_counts, dtype=np.float64)
        if self.binary:
            values[:] = 1.0
        if self.sublinear_tf:
            np.log(values, out=values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        if self.norm is not None:
            row_of = np.repeat(np.arange(len(texts)), np.diff(indptr))
            magnitudes = values * values if self.norm == "l2" else np.abs(values)
            norms = np.bincount(row_of, weights=magnitudes, minlength=len(texts))
            if self.norm == "l2":
                norms = np.sqrt(norms)
            norms[norms == 0.0] = 1.0  # empty rows stay zero
            values /= norms[row_of]
        return indices, values, np.array(indptr, dtype=np.intp)


class LinearPredictor:
    """predict_proba of a sigmoid-calibrated linear classifier, from its weights.

    weights: (n_features, n_columns), C-contiguous for the sparse-dense product; n_columns is 1
    for two labels (the model scores the second label only) and n_labels otherwise.
    """

    def __init__(
        self,
        vectorizer,
        labels: list[str],
        weights: np.ndarray,
        intercept: np.ndarray,
        slopes: np.ndarray,
        offsets: np.ndarray,
    ) -> None:
        self.vectorizer = vectorizer
        # Without it (a vectorizer this does not replay), scikit-learn's transform is used.
        self.features = TfidfFeatures.from_fitted(vectorizer)
        self.labels = labels
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.slopes = np.asarray(slopes, dtype=np.float64)
        self.offsets = np.asarray(offsets, dtype=np.float64)

    @classmethod
    def from_fitted(cls, vectorizer, classifier) -> LinearPredictor | None:
        """None unless `classifier` is the shape this class reproduces exactly."""
        if not isinstance(classifier, CalibratedClassifierCV) or classifier.method != "sigmoid":
            return None
        if len(classifier.calibrated_classifiers_) != 1:  # ensemble=True averages several
            return None
        calibrated = classifier.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        if not isinstance(estimator, LinearClassifierMixin):
            return None
        # ensemble=False fits the estimator on every row, so its classes are the calibrator's.
        if not np.array_equal(estimator.classes_, classifier.classes_):
            return None
        return cls(
            vectorizer,
            labels=[str(label) for label in classifier.classes_],
            weights=estimator.coef_.T,
            intercept=estimator.intercept_,
            slopes=np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            offsets=np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
        )

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        if self.features is None:
            return np.asarray(self.vectorizer.transform(texts) @ self.weights) + self.intercept
        if len(texts) == 1:
            # One text: no sparse matrix, just the weight rows of its terms, summed in index
            # order as the sparse product does, so a text scores the same alone or in a batch.
            indices, values = self.features.row(texts[0])
            scores = (values[:, np.newaxis] * self.weights[indices]).sum(axis=0)
            return (scores + self.intercept)[np.newaxis, :]
        return np.asarray(self.features.matrix(texts) @ self.weights) + self.intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = expit(-(self.decision_function(texts) * self.slopes + self.offsets))
        if len(self.labels) == 2:
            positive = scores[:, 0]
            proba = np.column_stack([1.0 - positive, positive])
        else:
            total = scores.sum(axis=1, keepdims=True)
            uniform = np.full_like(scores, 1.0 / len(self.labels))
            # All sigmoids at 0 for a row: scikit-learn falls back to the uniform distribution.
            proba = np.divide(scores, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + _PROBA_ROUNDING_SLACK)] = 1.0
        return proba


def make_predictor(vectorizer, classifier) -> Predictor:
    return LinearPredictor.from_fitted(vectorizer, classifier) or SklearnPredictor(
        vectorizer, classifier
    )


def label_probabilities(labels: Sequence[str], probabilities: np.ndarray) -> list[dict[str, Any]]:
    """The API's shape of each row: the most probable label and every label's probability."""
    return [
        {
            "label": labels[int(row.argmax())],
            "probabilities": {label: float(p) for label, p in zip(labels, row, strict=True)},
        }
        for row in probabilities
    ]
