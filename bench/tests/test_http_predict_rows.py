"""The CPU ratio row of the HTTP section: every layer of the product's path against the ML API's
own CPU per prediction in the direct run."""

from bench.load import LoadResult
from bench.sections.http_predict import Measurement, _cpu_ratio_row


def _measurement(requests: int, cpu_seconds: dict[str, float]) -> Measurement:
    load = LoadResult(requests, 20.0, 0.01, 0.02, 0, 0.05)
    return Measurement(load, cpu_seconds, {})


def test_the_ratio_sums_every_layer_but_the_idle_peers_app():
    layers = {"nginx": 0.2, "web": 1.0, "algorithm": 1.1, "redis": 0.1, "docker engine": 0.1}
    path = _measurement(1000, {**layers, "peers": 5.0})
    direct = _measurement(2000, {"algorithm": 2.0, "web": 0.01})

    row = _cpu_ratio_row(path, direct, concurrency=8)

    assert row.measured == "2.50 ms / 1.00 ms = 2.50x"
    assert row.passed is False
    assert _cpu_ratio_row(path, _measurement(1000, {"algorithm": 1.25}), concurrency=8).passed


def test_a_run_without_requests_has_no_ratio():
    row = _cpu_ratio_row(_measurement(0, {}), _measurement(10, {"algorithm": 1}), concurrency=1)

    assert row.passed is False
    assert "no ratio" in row.measured
