"""What nginx itself promises: one hostname, token-guarded routes, JSON errors, request ids."""

import pytest

from api import Api


def test_nginx_answers_its_own_health(anonymous):
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_web_health_needs_no_token(anonymous):
    response = anonymous.get("/api/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/data/"),
        ("POST", "/api/train/"),
        ("GET", "/api/train/"),
        ("POST", "/api/predict/"),
        ("GET", "/api/models/"),
        ("GET", "/ml/models"),
        ("POST", "/ml/predict"),
    ],
)
def test_every_endpoint_but_health_needs_a_token(anonymous, method, path):
    response = anonymous.request(method, path, json={"text": "x"})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_wrong_token_is_refused_on_the_ml_prefix(stack):
    response = Api(stack.base_url, token="0" * 40).get("/ml/models")
    assert response.status_code == 401


def test_ml_prefix_reaches_the_ml_api_with_a_token(api):
    response = api.get("/ml/models")
    assert response.status_code == 200
    assert "results" in response.json()


@pytest.mark.parametrize("path", ["/metrics", "/ml/metrics", "/api/metrics"])
def test_metrics_are_not_reachable_from_outside(api, path):
    assert api.get(path).status_code == 404


def test_request_id_is_echoed_or_minted(anonymous):
    echoed = anonymous.get("/api/health/", headers={"X-Request-ID": "e2e-trace-42"})
    assert echoed.headers["X-Request-ID"] == "e2e-trace-42"
    minted = anonymous.get("/api/health/")
    assert len(minted.headers["X-Request-ID"]) >= 16


def test_unknown_paths_get_a_json_404(anonymous):
    response = anonymous.get("/no/such/thing")
    assert response.status_code == 404
    assert "detail" in response.json()
