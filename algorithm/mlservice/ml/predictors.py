"""Turn a fitted vectorizer + calibrated classifier into label probabilities for new texts.

`make_predictor` prefers `LinearPredictor`: for CalibratedClassifierCV(ensemble=False) over a
linear model, predict_proba is one sparse-dense product, one sigmoid per class and a row
normalisation. Evaluating that directly returns the same numbers as scikit-learn (the tests hold
it to 1e-9) without its per-call validation and per-class Python loop, and exposes the weights
for a later custom fast path. Anything else (the `svc` choice: SVC's decision values come from
one-vs-one votes) goes through scikit-learn's own predict_proba.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
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
        features = self.vectorizer.transform(texts)
        return np.asarray(features @ self.weights) + self.intercept

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
