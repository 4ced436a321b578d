"""RED metrics in one process (the multiprocess aggregation is tested with gunicorn)."""

import pytest
from prometheus_client import REGISTRY

JOB_ID = "6f1c1c4e-8d0a-4d8e-9a55-3c1f0f1d2b7a"


def requests_counted(**labels: str) -> float:
    return REGISTRY.get_sample_value("http_requests_total", {"service": "web", **labels}) or 0.0


def duration_count(**labels: str) -> float:
    sample = REGISTRY.get_sample_value(
        "http_request_duration_seconds_count", {"service": "web", **labels}
    )
    return sample or 0.0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "route", "status"),
    [
        ("/api/data/", "/api/data/", "401"),
        ("/api/data/12345/", "/api/data/{id}/", "401"),
        (f"/api/train/{JOB_ID}/", "/api/train/{job_id}/", "401"),
        ("/api/health/live", "/api/health/live", "200"),
        ("/api/no/such/thing/", "unmatched", "404"),
        ("/static/admin/css/base.css", "/static/{path}", "404"),
    ],
)
def test_requests_are_counted_by_route_template(anonymous_client, path, route, status):
    labels = {"method": "GET", "route": route}
    before = (requests_counted(**labels, status=status), duration_count(**labels))

    response = anonymous_client.get(path)

    assert str(response.status_code) == status
    assert requests_counted(**labels, status=status) == before[0] + 1
    assert duration_count(**labels) == before[1] + 1


@pytest.mark.django_db
def test_an_unknown_method_is_counted_as_other(anonymous_client):
    labels = {"method": "other", "route": "/api/health/live", "status": "405"}
    before = requests_counted(**labels)

    anonymous_client.generic("BREW", "/api/health/live")

    assert requests_counted(**labels) == before + 1


def test_metrics_are_served_without_a_token_outside_the_api(anonymous_client):
    anonymous_client.get("/api/health/live")

    response = anonymous_client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert "# TYPE http_requests_total counter" in body
    assert "# TYPE http_request_duration_seconds histogram" in body
    assert 'route="/api/health/live"' in body


def test_metrics_ignore_the_host_header(client):
    """Prometheus scrapes web:8000, which is not an allowed host."""
    assert client.get("/metrics", HTTP_HOST="web:8000").status_code == 200


def test_metrics_name_the_release_from_the_image(anonymous_client, monkeypatch):
    monkeypatch.setenv("TEXTCLF_VERSION", "v1.2.3")
    monkeypatch.setenv("TEXTCLF_REVISION", "abc1234")

    body = anonymous_client.get("/metrics").content.decode()

    assert 'build_info{revision="abc1234",version="v1.2.3"} 1.0' in body
