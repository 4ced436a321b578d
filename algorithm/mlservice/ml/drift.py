"""What drift monitoring needs from a batch of predictions and from a model's record: pure
functions, no metrics and no I/O (mlservice.observability.drift exports them).

Three signals, per served version (README, "Model lifecycle", Drift):
- the share of each text's terms that are out of the model's vocabulary (1 - known_token_share;
  a text with no term at all counts as wholly unknown, as `unknown` says in the answer);
- the confidence: each text's top probability;
- the mix of predicted labels against the training label mix, whose population stability index
  Prometheus computes over a rolling window from the training shares given here and the
  predictions counter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# Upper bounds of the histograms (Prometheus adds +Inf). The OOV share of a text is a ratio of
# small counts, so 0 and "nearly all" get buckets of their own: 0.0 holds texts whose every term
# is known, +Inf (above 0.99) those the model knows (next to) nothing of.
OOV_SHARE_BUCKETS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
# The top probability is at least 1 / n_labels; finer near 1, where a healthy model answers.
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def oov_shares(n_terms: np.ndarray, n_known: np.ndarray) -> np.ndarray:
    """Per text, the share of its terms not in the vocabulary; 1.0 for a text with no term."""
    n_terms = np.asarray(n_terms, dtype=np.float64)
    n_known = np.asarray(n_known, dtype=np.float64)
    known = np.divide(n_known, n_terms, out=np.zeros_like(n_terms), where=n_terms > 0)
    return 1.0 - known


def top_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Per text, the probability of its most probable label."""
    return np.asarray(probabilities).max(axis=1)


def bucket_counts(values: np.ndarray, upper_bounds: Sequence[float]) -> np.ndarray:
    """How many values fall in each bucket: bucket i holds upper_bounds[i-1] < v <= upper_bounds[i]
    (Prometheus's `le`), the last bound being +Inf. Non-cumulative, one count per bound."""
    index = np.searchsorted(np.asarray(upper_bounds, dtype=np.float64), values, side="left")
    return np.bincount(index, minlength=len(upper_bounds))


def training_label_shares(labels: Sequence[str], metadata: Mapping[str, Any]) -> dict[str, float]:
    """Each of the model's labels' share of its training rows, estimated on its evaluation rows.

    The evaluation rows are about a quarter of the rows, chosen by a hash of the row id, so
    their label mix is an unbiased sample of the table's; every version since per-label quality
    records it (`evaluation.per_label[label].support`), with no change to training. Labels the
    model cannot answer (excluded as too rare) are left out and the rest renormalised, since a
    predicted mix can only hold the model's labels. Empty when the record has no evaluation.
    """
    per_label = (metadata.get("evaluation") or {}).get("per_label") or {}
    support = {label: float((per_label.get(label) or {}).get("support", 0)) for label in labels}
    total = sum(support.values())
    if total <= 0:
        return {}
    return {label: count / total for label, count in support.items()}
