"""What nginx itself promises: one hostname, token-guarded routes, JSON errors, request ids."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import Api


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


def test_nginx_limits_each_client_with_a_json_429(anonymous):
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda _: anonymous.get("/api/health/live"), range(400)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "400 requests at once never exceeded the 50 r/s limit with a burst of 100"
    assert "detail" in limited[0].json()
    assert {r.status_code for r in responses} <= {200, 429}
    # The bucket refills: later tests from this client are not limited.
    deadline = time.monotonic() + 10
    while anonymous.get("/api/health/live").status_code == 429:
        assert time.monotonic() < deadline, "still limited 10 s after the burst"
        time.sleep(0.5)
    # One request passing means the excess is just under the burst; let the whole burst allowance
    # (100 at 50 r/s: 2 s) drain too, so that the next tests' bulk loads are not limited.
    time.sleep(3)


def test_a_request_id_is_logged_by_nginx_web_and_the_ml_api(stack, api, trained_job):
    request_id = f"e2e-predict-{uuid.uuid4().hex}"
    response = api.post(
        "/api/predict/", json={"text": "x11 window manager"}, headers={"X-Request-ID": request_id}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id
    # A plain prediction goes from nginx straight to the ML API (test_edge_predict.py).
    for service in ("nginx", "algorithm"):
        assert stack.lines_with(service, request_id), f"{service} did not log {request_id}"

    batch_id = f"e2e-predict-{uuid.uuid4().hex}"
    response = api.post(
        "/api/predict/", json={"texts": ["vim"]}, headers={"X-Request-ID": batch_id}
    )
    assert response.status_code == 200
    for service in ("nginx", "web", "algorithm"):
        assert stack.lines_with(service, batch_id), f"{service} did not log {batch_id}"
