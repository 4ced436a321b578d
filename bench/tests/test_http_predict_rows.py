"""The CPU ratio rows of the HTTP section: every layer of the product's path against the ML
API's own CPU per prediction in the direct run."""

from bench.cpu_ratio import pause_for_rate, per_request_ms, ratio_row


def test_the_path_sums_every_layer_but_the_idle_peers_app():
    layers = {"nginx": 0.2, "web": 1.0, "algorithm": 1.1, "redis": 0.1, "docker engine": 0.1}

    assert per_request_ms({**layers, "peers": 5.0}, 1000) == 2.5
    assert per_request_ms({"algorithm": 2.0, "web": 0.01}, 2000, only="algorithm") == 1.0


def test_the_row_passes_at_most_the_ratio():
    failed = ratio_row("3", "ratio", 2.5, 1.0, 2.0)
    passed = ratio_row("3", "ratio", 2.5, 1.25, 2.0)

    assert (failed.measured, failed.target, failed.passed) == (
        "2.50 ms / 1.00 ms = 2.50x",
        "≤ 2.0x",
        False,
    )
    assert passed.passed is True


def test_a_run_without_requests_has_no_ratio():
    row = ratio_row("3", "ratio", per_request_ms({}, 0), 1.0, 2.0)

    assert row.passed is False
    assert "no ratio" in row.measured


def test_the_pause_paces_one_connection_to_the_path_s_rate():
    # Unpaced, a request takes 2 ms; at 200 req/s one leaves 5 ms: wait 3 ms before each.
    assert pause_for_rate(200.0, 500.0) == 3
    # Already slower than the target: no pause. No reference: no pause.
    assert pause_for_rate(800.0, 500.0) == 0
    assert pause_for_rate(0.0, 500.0) == 0
