import pytest

from tests.support import TEST_SERVICE_TOKEN

PROTECTED = [
    ("post", "/train"),
    ("get", "/train"),
    ("get", "/train/00000000-0000-4000-8000-000000000000"),
    ("post", "/predict"),
    ("get", "/models"),
    ("get", "/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("token", [None, "", "wrong", TEST_SERVICE_TOKEN + "x", "tëst"])
def test_internal_routes_need_the_service_token(app, method, path, token):
    headers = {} if token is None else {"X-Service-Token": token}
    response = getattr(app.test_client(), method)(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "A valid X-Service-Token header is required."}


def test_the_right_token_gets_through(app):
    response = app.test_client().get("/train", headers={"X-Service-Token": TEST_SERVICE_TOKEN})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready"])
def test_health_checks_need_no_token(app, path):
    assert app.test_client().get(path).status_code == 200
