import pytest

from tests.support import authenticated


@pytest.mark.parametrize("path", ["/", "/nope", "/train/x/y", "/static/app.js"])
def test_unknown_routes_are_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/train"), ("get", "/predict"), ("post", "/health"), ("put", "/models")],
)
def test_wrong_methods_are_json_405_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method not allowed."}
    assert response.headers["Allow"]


def test_an_oversized_body_is_a_json_413(settings):
    from dataclasses import replace

    from mlservice import create_app

    client = authenticated(create_app(replace(settings, max_request_bytes=1000)).test_client())
    response = client.post("/predict", json={"text": "x" * 2000})
    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large."}


def test_an_unexpected_error_is_a_json_500_without_internals(settings):
    from mlservice import create_app

    app = create_app(settings)  # not TESTING: errors are handled, as in production

    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", view_func=explode)
    response = authenticated(app.test_client()).get("/explode")
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error."}
