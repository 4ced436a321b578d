"""Turn a fitted vectorizer + calibrated classifier into label probabilities for new texts.

`make_predictor` prefers `LinearPredictor`: for CalibratedClassifierCV(ensemble=False) over a
linear model, predict_proba is one sparse-dense product, one sigmoid per class and a row
normalisation. Evaluating that directly returns the same numbers as scikit-learn (the tests hold
it to 1e-9 on real data) without its per-call validation and per-class Python loop. The TF-IDF
features come from `TfidfFeatures`, which replays the fitted vectorizer's arithmetic without
scikit-learn's per-call overhead (most of what a single text cost; BENCHMARKS.md): one text
goes straight from its terms to the weight rows they select; a batch becomes one sparse matrix
and one product. `UnionFeatures` does the same for a FeatureUnion of TfidfVectorizers (the
word + character n-gram recipe). The same pass counts how many of a text's terms the vocabulary
knows, and yields the per-term weights that explain a prediction. Anything else (the `svc`
choice: SVC's decision values come from one-vs-one votes) goes through scikit-learn's own
predict_proba.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.pipeline import FeatureUnion

# scikit-learn rounds probabilities that exceed 1 by at most this much down to exactly 1.
_PROBA_ROUNDING_SLACK = 1e-5


class ExplanationUnavailable(Exception):
    """The model's scores are not a linear function of its features (the `svc` choice)."""


@dataclass(frozen=True)
class Analysis:
    """What a predictor found in a batch of texts.

    n_terms: per text, the terms its analyzer produced (words, n-grams; every part's for a
    union), counting repeats; n_known: how many of them are in the vocabulary. A text with no
    known term has an all-zero feature row, so its scores are the intercepts alone: the model's
    prior, whatever the text says.
    explanations: per text, for its most probable label, when asked (see LinearPredictor).
    """

    probabilities: np.ndarray
    n_terms: np.ndarray
    n_known: np.ndarray
    explanations: list[dict[str, Any]] | None = None


class Predictor(Protocol):
    labels: list[str]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Array (len(texts), len(labels)); each row sums to 1."""
        ...

    def analyse(self, texts: Sequence[str], *, explain: int | None = None) -> Analysis:
        """Probabilities, vocabulary coverage and, if `explain`, the top terms of each text."""
        ...


class SklearnPredictor:
    def __init__(self, vectorizer, classifier) -> None:
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.labels = [str(label) for label in classifier.classes_]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(texts))

    def analyse(self, texts: Sequence[str], *, explain: int | None = None) -> Analysis:
        if explain:
            raise ExplanationUnavailable(
                "The served model's scores come from one-vs-one votes (CLASSIFIER=svc), which "
                "do not split into term weights; explanations need CLASSIFIER=linear_svc."
            )
        n_terms, n_known = term_coverage(self.vectorizer, texts)
        return Analysis(self.predict_proba(texts), n_terms, n_known)


@dataclass(frozen=True)
class FeatureRows:
    """A batch's features as CSR parts, plus each text's term counts (see Analysis)."""

    indices: np.ndarray
    values: np.ndarray
    indptr: np.ndarray
    n_terms: np.ndarray
    n_known: np.ndarray

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices ascending, values) of the i-th text."""
        start, end = self.indptr[i], self.indptr[i + 1]
        return self.indices[start:end], self.values[start:end]

    def matrix(self, n_features: int) -> csr_matrix:
        shape = (len(self.indptr) - 1, n_features)
        return csr_matrix((self.values, self.indices, self.indptr), shape=shape)


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
        self._terms: list[str] | None = None

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
        return self.rows([text]).row(0)

    def names(self, indices: list[int]) -> list[str]:
        """The terms of these feature indices (scikit-learn's feature names)."""
        if self._terms is None:
            # The vocabulary's own strings, indexed: a pointer per term, no copies.
            terms: list[str] = [""] * self.n_features
            for term, j in self.vocabulary.items():
                terms[j] = term
            self._terms = terms
        return [self._terms[j] for j in indices]

    def matrix(self, texts: Sequence[str]) -> csr_matrix:
        """The (len(texts), n_features) tf-idf matrix of a batch."""
        return self.rows(texts).matrix(self.n_features)

    def rows(self, texts: Sequence[str]) -> FeatureRows:
        """The batch's rows: terms are counted per text, then weighted and normalised for the
        whole batch at once."""
        vocabulary, analyze = self.vocabulary, self.analyze
        all_indices: list[int] = []
        all_counts: list[int] = []
        indptr = [0]
        n_terms = np.zeros(len(texts), dtype=np.intp)
        n_known = np.zeros(len(texts), dtype=np.intp)
        for position, text in enumerate(texts):
            terms = analyze(text)
            counts = Counter(j for term in terms if (j := vocabulary.get(term)) is not None)
            for j in sorted(counts):
                all_indices.append(j)
                all_counts.append(counts[j])
            indptr.append(len(all_indices))
            n_terms[position] = len(terms)
            n_known[position] = counts.total()
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
        return FeatureRows(indices, values, np.array(indptr, dtype=np.intp), n_terms, n_known)


class UnionFeatures:
    """A fitted FeatureUnion of TfidfVectorizers (e.g. words + character n-grams): each part's
    features, replayed by TfidfFeatures and normalised on their own, side by side in part order,
    as FeatureUnion's hstack lays them out."""

    def __init__(self, names: list[str], parts: list[TfidfFeatures]) -> None:
        self.part_names = names
        self.parts = parts
        self.offsets = np.cumsum([0] + [part.n_features for part in parts])
        self.n_features = int(self.offsets[-1])

    @classmethod
    def from_fitted(cls, union: Any) -> UnionFeatures | None:
        """None unless `union` is a plain FeatureUnion of vectorizers TfidfFeatures replays."""
        if type(union) is not FeatureUnion or union.transformer_weights is not None:
            return None
        parts = [TfidfFeatures.from_fitted(part) for _, part in union.transformer_list]
        if not parts or any(part is None for part in parts):
            return None
        return cls([name for name, _ in union.transformer_list], parts)

    def names(self, indices: list[int]) -> list[str]:
        """scikit-learn's FeatureUnion names: the part's name, "__", the term ("char__ py")."""
        names = []
        for j in indices:
            part = int(np.searchsorted(self.offsets, j, side="right")) - 1
            (term,) = self.parts[part].names([j - int(self.offsets[part])])
            names.append(f"{self.part_names[part]}__{term}")
        return names

    def matrix(self, texts: Sequence[str]) -> csr_matrix:
        return self.rows(texts).matrix(self.n_features)

    def rows(self, texts: Sequence[str]) -> FeatureRows:
        by_part = [part.rows(texts) for part in self.parts]
        pieces_indices, pieces_values = [], []
        for i in range(len(texts)):
            for rows, offset in zip(by_part, self.offsets[:-1], strict=True):
                indices, values = rows.row(i)
                pieces_indices.append(indices + offset)
                pieces_values.append(values)
        lengths = np.sum([np.diff(rows.indptr) for rows in by_part], axis=0)
        return FeatureRows(
            indices=np.concatenate(pieces_indices).astype(np.intp, copy=False),
            values=np.concatenate(pieces_values),
            indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp),
            n_terms=np.sum([rows.n_terms for rows in by_part], axis=0),
            n_known=np.sum([rows.n_known for rows in by_part], axis=0),
        )


def make_features(vectorizer: Any) -> TfidfFeatures | UnionFeatures | None:
    """The fast replay of a fitted vectorizer, or None for one it does not reproduce."""
    return TfidfFeatures.from_fitted(vectorizer) or UnionFeatures.from_fitted(vectorizer)


def term_coverage(vectorizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(terms, of which in the vocabulary) per text, from any fitted text vectorizer with an
    analyzer and a vocabulary, or a FeatureUnion of them (their counts add up)."""
    if isinstance(vectorizer, FeatureUnion):
        counts = [term_coverage(part, texts) for _, part in vectorizer.transformer_list]
        return (
            np.sum([n_terms for n_terms, _ in counts], axis=0),
            np.sum([n_known for _, n_known in counts], axis=0),
        )
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    n_terms = np.zeros(len(texts), dtype=np.intp)
    n_known = np.zeros(len(texts), dtype=np.intp)
    for position, text in enumerate(texts):
        terms = analyze(text)
        n_terms[position] = len(terms)
        n_known[position] = sum(term in vocabulary for term in terms)
    return n_terms, n_known


class LinearPredictor:
    """predict_proba of a sigmoid-calibrated linear classifier, from its weights.

    weights: (n_features, n_columns), C-contiguous for the sparse-dense product; n_columns is 1
    for two labels (the model scores the second label only) and n_labels otherwise.

    Explanations: the model is CalibratedClassifierCV(ensemble=False) over a LinearSVC, so one
    linear model fitted on every row gives each label a decision score
    d = sum_j w_j x_j + b (w: the label's coefficients, x: the text's tf-idf values, b: its
    intercept), and the label's sigmoid maps d to its probability. A term's weight is its
    w_j x_j, exactly; the weights of all the text's terms add up to d - b. With two labels the
    model has one score d for the second label; the first label's score is -d (its weights are
    the negated ones), which is what decides between them. An explanation lists the `explain`
    terms of largest absolute weight (the sign says for or against the label), and the sum of
    the others' weights, so that the parts always add up to the score.
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
        self.features = make_features(vectorizer)
        self.labels = labels
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.slopes = np.asarray(slopes, dtype=np.float64)
        self.offsets = np.asarray(offsets, dtype=np.float64)
        self._feature_names: list[str] | None = None

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
        return self._scores(self._rows(texts, coverage=False), len(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self._probabilities(self.decision_function(texts))

    def analyse(self, texts: Sequence[str], *, explain: int | None = None) -> Analysis:
        rows = self._rows(texts, coverage=True)
        probabilities = self._probabilities(self._scores(rows, len(texts)))
        explanations = None
        if explain:
            explanations = [
                self._explain(*rows.row(i), int(probabilities[i].argmax()), explain)
                for i in range(len(texts))
            ]
        return Analysis(probabilities, rows.n_terms, rows.n_known, explanations)

    def _rows(self, texts: Sequence[str], *, coverage: bool) -> FeatureRows:
        if self.features is not None:
            return self.features.rows(texts)
        matrix = csr_matrix(self.vectorizer.transform(texts))
        matrix.sort_indices()
        n_terms, n_known = (
            term_coverage(self.vectorizer, texts) if coverage else (np.zeros(0), np.zeros(0))
        )
        return FeatureRows(matrix.indices, matrix.data, matrix.indptr, n_terms, n_known)

    def _scores(self, rows: FeatureRows, n_texts: int) -> np.ndarray:
        if n_texts == 1 and self.features is not None:
            # One text: no sparse matrix, just the weight rows of its terms, summed in index
            # order as the sparse product does, so a text scores the same alone or in a batch.
            scores = (rows.values[:, np.newaxis] * self.weights[rows.indices]).sum(axis=0)
            return (scores + self.intercept)[np.newaxis, :]
        return np.asarray(rows.matrix(self.weights.shape[0]) @ self.weights) + self.intercept

    def _probabilities(self, decision: np.ndarray) -> np.ndarray:
        scores = expit(-(decision * self.slopes + self.offsets))
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

    def feature_names(self, indices: list[int]) -> list[str]:
        """scikit-learn's names of these features ("python"; "word__python", "char__ py" for a
        union)."""
        if self.features is not None:
            return self.features.names(indices)
        if self._feature_names is None:
            self._feature_names = self.vectorizer.get_feature_names_out().tolist()
        return [self._feature_names[j] for j in indices]

    def _explain(
        self, indices: np.ndarray, values: np.ndarray, label: int, top: int
    ) -> dict[str, Any]:
        if len(self.labels) == 2:
            column, sign = 0, (1.0 if label == 1 else -1.0)
        else:
            column, sign = label, 1.0
        contributions = values * self.weights[indices, column]
        if sign < 0:
            np.negative(contributions, out=contributions)
        intercept = sign * float(self.intercept[column])
        # Largest absolute weight first; a stable sort keeps equal weights in feature order.
        shown = np.argsort(-np.abs(contributions), kind="stable")[:top]
        total = float(contributions.sum())
        weights = contributions[shown]
        names = self.feature_names(indices[shown].tolist())
        return {
            "label": self.labels[label],
            "score": total + intercept,
            "intercept": intercept,
            "terms": [
                {"term": name, "weight": weight}
                for name, weight in zip(names, weights.tolist(), strict=True)
            ],
            "others_weight": total - float(weights.sum()),
        }


def make_predictor(vectorizer, classifier) -> Predictor:
    return LinearPredictor.from_fitted(vectorizer, classifier) or SklearnPredictor(
        vectorizer, classifier
    )


def prediction_rows(
    labels: Sequence[str], analysis: Analysis, *, refuse_unknown: bool = False
) -> list[dict[str, Any]]:
    """The API's shape of each text's prediction.

    label: the most probable label, or None for an unknown text when `refuse_unknown`;
    probabilities: every label's; known_token_share: the share of the text's terms that are in
    the vocabulary (0 when it has none); unknown: no term known, so the answer is the prior;
    explanation: only when asked for.
    """
    rows = []
    for i, row in enumerate(analysis.probabilities):
        n_terms, n_known = int(analysis.n_terms[i]), int(analysis.n_known[i])
        unknown = n_known == 0
        prediction: dict[str, Any] = {
            "label": None if unknown and refuse_unknown else labels[int(row.argmax())],
            "probabilities": {label: float(p) for label, p in zip(labels, row, strict=True)},
            "known_token_share": n_known / n_terms if n_terms else 0.0,
            "unknown": unknown,
        }
        if analysis.explanations is not None:
            prediction["explanation"] = analysis.explanations[i]
        rows.append(prediction)
    return rows
