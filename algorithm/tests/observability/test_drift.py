"""The batch observe that keeps drift metrics cheap records what one observe per text would."""

import uuid

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Histogram

from mlservice.ml.drift import CONFIDENCE_BUCKETS, OOV_SHARE_BUCKETS
from mlservice.observability.drift import observe_many


def _state(child) -> tuple[list[float], float]:
    return [bucket.get() for bucket in child._buckets], child._sum.get()


@pytest.mark.parametrize("bounds", [OOV_SHARE_BUCKETS, CONFIDENCE_BUCKETS])
@pytest.mark.parametrize("n", [1, 2, 500])
def test_observe_many_equals_one_observe_per_value(bounds, n):
    registry = CollectorRegistry()
    # Multiprocess values live in files keyed by name: a fresh name per case starts from zero.
    name = uuid.uuid4().hex
    one_by_one = Histogram(f"drift_single_{name}", "x", ["v"], buckets=bounds, registry=registry)
    batched = Histogram(f"drift_batch_{name}", "x", ["v"], buckets=bounds, registry=registry)
    values = np.random.default_rng(n).random(n)
    values[: n // 3] = 1.0  # wholly unknown texts: the +Inf bucket
    values[n // 3 : n // 2] = 0.0  # fully known: the 0.0 bucket
    for value in values:
        one_by_one.labels(v="x").observe(float(value))
    observe_many(batched.labels(v="x"), values)

    expected_buckets, expected_sum = _state(one_by_one.labels(v="x"))
    buckets, total = _state(batched.labels(v="x"))
    assert buckets == expected_buckets
    assert total == pytest.approx(expected_sum)
