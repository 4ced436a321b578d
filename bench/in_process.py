"""The ML service's own pipeline, run in the bench's process on rows held in memory.

`mlservice.inprocess.train_model` is the worker's recipe (75/25 split, fit, held-out evaluation,
refit on every row) without Postgres, the broker or publishing: the baseline of the training
rows, run with the service's thread count. Its model predicts through the API's own path and
through scikit-learn's pipeline, for the predict-in-process rows.
"""

from __future__ import annotations

import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer

from bench.dataset import Row
from mlservice.config import Settings
from mlservice.inprocess import InProcessModel, train_model
from mlservice.ml import text_classifier


def train(rows: list[Row], *, classifier: str) -> tuple[InProcessModel, float]:
    """(the trained model, seconds)."""
    texts = [text for text, _ in rows]
    labels = [label for _, label in rows]
    started = time.perf_counter()
    model = train_model(texts, labels, classifier=classifier, n_jobs=Settings().train_n_jobs)
    return model, time.perf_counter() - started


def tfidf_matrix_bytes(rows: list[Row], *, classifier: str) -> int:
    """Bytes of the TF-IDF matrix (CSR: values, column indices, row pointers) of all `rows`."""
    spec = text_classifier.get_spec(classifier)
    matrix = TfidfVectorizer(**spec.vectorizer_params).fit_transform(text for text, _ in rows)
    return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes


def text_bytes(rows: list[Row]) -> int:
    """Bytes of the texts as Python strings: what the worker holds before vectorizing."""
    return sum(sys.getsizeof(text) for text, _ in rows)
