"""Which rows evaluate a model, and what its predictions on them score.

The evaluation rows are chosen by a hash of each row's id, not by a random draw over positions:
a row keeps its side of the split however the table grows or is reordered, so two models trained
at different times are scored on the same rows wherever both tables hold them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

EVALUATION_SHARE = 0.25
_BUCKETS = 10_000


def is_evaluation_row(row_id: int | str, share: float = EVALUATION_SHARE) -> bool:
    """Whether the row with this id is held out for evaluation (about `share` of all ids)."""
    digest = hashlib.blake2b(str(row_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _BUCKETS < share * _BUCKETS


def evaluation_mask(row_ids: Iterable[int | str], share: float = EVALUATION_SHARE) -> list[bool]:
    return [is_evaluation_row(row_id, share) for row_id in row_ids]


def scores(true: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Overall scores; labels the model never predicts score zero instead of warning."""
    return {
        "accuracy": float(accuracy_score(true, predicted)),
        "precision_weighted": float(
            precision_score(true, predicted, average="weighted", zero_division=0)
        ),
        "recall_weighted": float(
            recall_score(true, predicted, average="weighted", zero_division=0)
        ),
        "f1_macro": float(f1_score(true, predicted, average="macro", zero_division=0)),
    }


def per_label_report(true: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support of every label seen (true or predicted), and the
    confusion matrix: `matrix[i][j]` counts rows of `labels[i]` predicted as `labels[j]`."""
    labels = sorted(set(true) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=labels, zero_division=0
    )
    matrix = confusion_matrix(true, predicted, labels=labels)
    return {
        "per_label": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": np.asarray(matrix, dtype=np.int64).tolist(),
        },
    }
