import pytest
from prometheus_client import REGISTRY

from textclf_ops.http_metrics import http_request_observe, method_label, route_template


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_the_usual_methods_are_their_own_label(method):
    assert method_label(method) == method


@pytest.mark.parametrize("method", ["BREW", "get", "PROPFIND", "", None])
def test_any_other_method_is_counted_as_OTHER(method):
    assert method_label(method) == "OTHER"


@pytest.mark.parametrize(
    ("pattern", "template"),
    [
        # Django: path() converters, DRF router regexes (pk reads as id, as in the schema).
        ("api/data/", "/api/data/"),
        ("api/train/<uuid:job_id>/", "/api/train/{job_id}/"),
        ("api/^data/(?P<pk>[^/.]+)/$", "/api/data/{id}/"),
        ("", "/"),
        # Flask: url_rule.rule.
        ("/predict", "/predict"),
        ("/models/<version>/activate", "/models/{version}/activate"),
        ("/train/<uuid:job_id>", "/train/{job_id}"),
        (None, "unmatched"),
    ],
)
def test_a_url_pattern_becomes_a_template(pattern, template):
    assert route_template(pattern) == template


def test_a_request_is_counted_and_timed_under_bounded_labels():
    labels = {"service": "svc", "method": "OTHER", "route": "/x/{id}"}

    def count() -> float:
        return REGISTRY.get_sample_value("http_requests_total", {**labels, "status": "405"}) or 0

    before = count()
    http_request_observe(service="svc", method="BREW", route="/x/{id}", status=405, seconds=0.01)

    assert count() == before + 1
    assert REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) >= 1
