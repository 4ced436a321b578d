"""Access through nginx: no token (or a wrong one) is a 401, with a JSON detail, on everything
but health, on /api/ and /ml/ alike; a consumer token cannot train (403, and no job is created).
That a consumer cannot activate a model is in test_model_activation.py; DRF's per-token throttle
and the credentials of Flower and Prometheus are tested by the web and end-to-end suites. The API's
schema and docs are public (web/accounts/policies.py; tests/e2e/test_authorization.py)."""

import pytest

from harness import Api

SOME_VERSION = "20261127T010203.000000Z-abcdef"
SOME_JOB = "00000000-0000-4000-8000-000000000000"
PROTECTED = [
    ("GET", "/api/data/"),
    ("POST", "/api/data/"),
    ("GET", "/api/data/1/"),
    ("PATCH", "/api/data/1/"),
    ("DELETE", "/api/data/1/"),
    ("GET", "/api/train/"),
    ("POST", "/api/train/"),
    ("GET", f"/api/train/{SOME_JOB}/"),
    ("POST", "/api/predict/"),
    ("GET", "/api/models/"),
    ("POST", f"/api/models/{SOME_VERSION}/activate/"),
    ("GET", "/ml/models"),
    ("POST", "/ml/predict"),
    ("POST", "/ml/train"),
    ("GET", "/ml/train"),
    ("POST", f"/ml/models/{SOME_VERSION}/activate"),
]


WRONG_TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("token", [None, WRONG_TOKEN])
def test_no_valid_token_is_401(stack, method, path, token):
    response = Api(stack.base_url, token).request(method, path, json={})
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_the_401_is_json_with_a_detail(stack, method, path):
    """README: every error body is JSON with a `detail`."""
    response = Api(stack.base_url).request(method, path, json={})
    assert response.status_code == 401
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"not JSON ({response.headers.get('Content-Type')}): {response.text[:200]}")
    assert body.get("detail"), body


@pytest.mark.parametrize("path", ["/healthz", "/api/health/"])
def test_health_needs_no_token(stack, path):
    assert Api(stack.base_url).get(path).status_code == 200


def test_a_consumer_cannot_train(admin, consumer, measured):
    before = admin.get("/api/train/", params={"limit": 100}).json()["results"]
    response = consumer.post("/api/train/")
    measured["status"] = response.status_code
    assert response.status_code == 403, response.text
    assert response.json().get("detail")
    assert admin.get("/api/train/", params={"limit": 100}).json()["results"] == before
