"""Drift metrics of the served model: recorded on every prediction, cheap enough to leave on.

`observe` runs on the predict path after the answer is computed: two maxima and a division
over arrays the predictor already made, then one counter update per non-empty histogram bucket
(at most 12 per histogram, however large the batch) instead of one per text. `export_baseline`
runs when an API process switches models. Prometheus does the rest with recording rules over a
rolling window (monitoring/prometheus/alerts.yml, group textclf-drift): mean OOV share, mean
confidence, and the population stability index of the predicted label mix against the training
label mix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from prometheus_client import Histogram

from mlservice.ml import drift
from mlservice.ml.predictors import Analysis
from mlservice.observability import metrics


def observe(version: str, analysis: Analysis) -> None:
    """Count each text's OOV share and confidence under the version that answered it."""
    oov, confidence = _histograms(version)
    if len(analysis.n_terms) == 1:
        # The common single-text call: plain floats, no small-array numpy overhead.
        n_terms, n_known = int(analysis.n_terms[0]), int(analysis.n_known[0])
        oov.observe(1.0 - n_known / n_terms if n_terms else 1.0)
        confidence.observe(float(analysis.probabilities[0].max()))
        return
    observe_many(oov, drift.oov_shares(analysis.n_terms, analysis.n_known))
    observe_many(confidence, drift.top_probabilities(analysis.probabilities))


# Each version's two histogram children: `labels()` takes the metric's lock on every call, so
# they are looked up once per version and process (versions are few: the kept ones).
_children: dict[str, tuple[Histogram, Histogram]] = {}


def _histograms(version: str) -> tuple[Histogram, Histogram]:
    children = _children.get(version)
    if children is None:
        children = _children[version] = (
            metrics.DRIFT_OOV_SHARE.labels(model_version=version),
            metrics.DRIFT_CONFIDENCE.labels(model_version=version),
        )
    return children


def observe_many(histogram: Histogram, values: np.ndarray) -> None:
    """The same samples as `histogram.observe(v)` for each v, in one update per non-empty bucket.

    prometheus_client has no batch observe; this writes the child's bucket and sum values
    directly (the attributes observe itself uses; a unit test holds the two equal, so a library
    change that moves them fails there, not in production).
    """
    if len(values) == 1:
        histogram.observe(float(values[0]))
        return
    counts = drift.bucket_counts(values, histogram._upper_bounds)
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(int(count))
    histogram._sum.inc(float(np.sum(values)))


def export_baseline(version: str, labels: Sequence[str], metadata: Mapping[str, Any]) -> None:
    """The version's training label shares, and a zero sample of every series its predictions
    will move, so that the window's increase() counts the first predictions too and a label the
    model stops predicting shows as a share of 0, not as a missing series."""
    for label, share in drift.training_label_shares(labels, metadata).items():
        metrics.TRAINING_LABEL_SHARE.labels(model_version=version, label=label).set(share)
    for label in labels:
        metrics.PREDICTIONS.labels(label=label, model_version=version)
    _histograms(version)
