"""Every route x method x role, at both doors (/api/ through web, /ml/ through nginx's auth check
straight to the ML API), answers as accounts.policies says: consumers may read, write data and
predict; only staff may train, activate, promote or roll back a model; an /ml/ route outside
the table is refused.

Allowed cases are sent so that they reach the view and stop there without side effects (a body
the view refuses, an id that does not exist): the status shows the view answered, not the auth.
"""

from __future__ import annotations

import pytest

from harness import Api

UNKNOWN_VERSION = "20261127T010203.000000Z-abcdef"
UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
UNKNOWN_ID = "999999999"
NO = {"x": 1}  # a body every no-body endpoint refuses (400) once it is allowed to look
REASON = {"reason": "authorization table"}  # valid; the unknown version stops it (404)

ROLES = ("anonymous", "consumer", "staff")

# (method, path, json body or None, expected status for anonymous, consumer, staff)
TABLE = [
    # /api/ (web)
    ("GET", "/api/health/", None, (200, 200, 200)),
    ("GET", "/api/data/", None, (401, 200, 200)),
    ("POST", "/api/data/", {}, (401, 400, 400)),
    ("GET", f"/api/data/{UNKNOWN_ID}/", None, (401, 404, 404)),
    ("PUT", f"/api/data/{UNKNOWN_ID}/", {"text": "t", "label": "l"}, (401, 404, 404)),
    ("PATCH", f"/api/data/{UNKNOWN_ID}/", {"label": "l"}, (401, 404, 404)),
    ("DELETE", f"/api/data/{UNKNOWN_ID}/", None, (401, 404, 404)),
    ("POST", "/api/predict/", {}, (401, 400, 400)),
    ("POST", "/api/feedback/", {}, (401, 400, 400)),
    ("GET", "/api/feedback/summary/", None, (401, 200, 200)),
    ("GET", "/api/models/", None, (401, 200, 200)),
    ("GET", f"/api/models/{UNKNOWN_VERSION}/", None, (401, 404, 404)),
    ("POST", f"/api/models/{UNKNOWN_VERSION}/activate/", None, (401, 403, 404)),
    ("POST", f"/api/models/{UNKNOWN_VERSION}/promote/", REASON, (401, 403, 404)),
    ("POST", f"/api/models/{UNKNOWN_VERSION}/rollback/", REASON, (401, 403, 404)),
    ("GET", "/api/models/stage-changes/", None, (401, 200, 200)),
    ("GET", "/api/train/", None, (401, 200, 200)),
    ("POST", "/api/train/", NO, (401, 403, 400)),
    ("GET", f"/api/train/{UNKNOWN_JOB}/", None, (401, 404, 404)),
    ("GET", "/api/auth/tokens/", None, (401, 200, 200)),
    ("POST", "/api/auth/tokens/", {}, (401, 400, 400)),
    ("DELETE", f"/api/auth/tokens/{UNKNOWN_ID}/", None, (401, 404, 404)),
    # the schema and its two UIs describe the API and hold no data: public by the READ_API_DOCS rule
    ("GET", "/api/schema/", None, (200, 200, 200)),
    ("GET", "/api/docs/", None, (200, 200, 200)),
    ("GET", "/api/redoc/", None, (200, 200, 200)),
    # /ml/ (the ML API behind nginx's auth_request)
    ("GET", "/ml/health/live", None, (200, 200, 200)),
    ("POST", "/ml/predict", {}, (401, 400, 400)),
    ("GET", "/ml/models", None, (401, 200, 200)),
    ("GET", f"/ml/models/{UNKNOWN_VERSION}", None, (401, 404, 404)),
    ("POST", f"/ml/models/{UNKNOWN_VERSION}/activate", None, (401, 403, 404)),
    ("POST", f"/ml/models/{UNKNOWN_VERSION}/promote", REASON, (401, 403, 404)),
    ("POST", f"/ml/models/{UNKNOWN_VERSION}/rollback", REASON, (401, 403, 404)),
    ("GET", "/ml/models/stage-changes", None, (401, 200, 200)),
    ("GET", "/ml/train", None, (401, 200, 200)),
    ("POST", "/ml/train", NO, (401, 403, 400)),
    ("GET", f"/ml/train/{UNKNOWN_JOB}", None, (401, 404, 404)),
    # /ml/ routes outside the table: refused whoever asks
    ("GET", "/ml/predict", None, (401, 403, 403)),
    ("DELETE", "/ml/models", None, (401, 403, 403)),
    ("PUT", "/ml/train", NO, (401, 403, 403)),
    ("GET", "/ml/some-route-added-later", None, (401, 403, 403)),
    ("GET", "/ml/metrics", None, (404, 404, 404)),  # never routed by nginx
]


@pytest.fixture(scope="module")
def consumer_key(stack) -> str:
    result = stack.exec(
        "web", "python", "manage.py", "create_api_token", "e2e-authz-consumer", "--name", "e2e"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def clients(stack, token, consumer_key) -> dict[str, Api]:
    return {
        "anonymous": Api(stack.base_url),
        "consumer": Api(stack.base_url, consumer_key),
        "staff": Api(stack.base_url, token),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    TABLE,
    ids=[f"{method} {path}" for method, path, _, _ in TABLE],
)
def test_route_by_role(clients, role, method, path, body, expected):
    want = expected[ROLES.index(role)]
    kwargs = {} if body is None else {"json": body}

    response = clients[role].request(method, path, **kwargs)

    assert response.status_code == want, response.text[:300]
    if want >= 400:
        assert "json" in response.headers["Content-Type"], response.text[:200]
        assert response.json().get("detail"), response.text[:200]


def test_a_consumer_cannot_start_a_training_through_ml(clients):
    before = clients["staff"].get("/api/train/", params={"limit": 100}).json()["results"]

    response = clients["consumer"].post("/ml/train")

    assert response.status_code == 403
    assert clients["staff"].get("/api/train/", params={"limit": 100}).json()["results"] == before


def test_a_consumer_cannot_switch_the_current_model_through_ml(clients):
    before = clients["staff"].get("/api/models/").json()
    versions = [model["version"] for model in before["results"]] or [UNKNOWN_VERSION]

    for version in versions:
        response = clients["consumer"].post(f"/ml/models/{version}/activate")
        assert response.status_code == 403, response.text

    assert clients["staff"].get("/api/models/").json()["current"] == before["current"]
