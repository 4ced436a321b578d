"""nginx's auth_request for /ml/: the original method and URI decide the action, and the action's
rule in accounts.policies decides the answer, as it does for the /api/ views."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/auth/check/"
VERSION = "20261127T010203.000000Z-abcdef"
JOB = "00000000-0000-4000-8000-000000000000"


def original(method: str, uri: str) -> dict:
    return {"HTTP_X_ORIGINAL_METHOD": method, "HTTP_X_ORIGINAL_URI": uri}


# (method, uri, anonymous, consumer, staff)
TABLE = [
    ("GET", "/ml/health", 204, 204, 204),
    ("GET", "/ml/health/live", 204, 204, 204),
    ("GET", "/ml/health/ready", 204, 204, 204),
    ("HEAD", "/ml/health", 204, 204, 204),
    ("POST", "/ml/predict", 401, 204, 204),
    ("GET", "/ml/models", 401, 204, 204),
    ("GET", "/ml/models?x=1", 401, 204, 204),
    ("GET", "/ml/train", 401, 204, 204),
    ("GET", "/ml/train?limit=5", 401, 204, 204),
    ("GET", f"/ml/train/{JOB}", 401, 204, 204),
    ("POST", "/ml/train", 401, 403, 204),
    ("POST", f"/ml/models/{VERSION}/activate", 401, 403, 204),
    # Outside the table: refused whoever asks.
    ("GET", "/ml/predict", 401, 403, 403),
    ("DELETE", "/ml/models", 401, 403, 403),
    ("PUT", "/ml/train", 401, 403, 403),
    ("POST", "/ml/models/a/b/activate", 401, 403, 403),
    ("GET", "/ml/metrics", 401, 403, 403),
    ("GET", "/ml/", 401, 403, 403),
    ("GET", "/ml/anything-added-later", 401, 403, 403),
    ("POST", "/ml/predict/../train", 401, 403, 403),
    ("POST", "/ml/Train", 401, 403, 403),
    ("GET", "/api/data/", 401, 403, 403),
]


@pytest.mark.parametrize(("method", "uri", "anonymous", "consumer", "staff"), TABLE)
def test_each_ml_route_answers_by_role(
    anonymous_client, api_client, staff_client, method, uri, anonymous, consumer, staff
):
    headers = original(method, uri)
    assert anonymous_client.get(URL, **headers).status_code == anonymous
    assert api_client.get(URL, **headers).status_code == consumer
    assert staff_client.get(URL, **headers).status_code == staff


@pytest.mark.parametrize("method", ["get", "head", "post", "put", "patch", "delete"])
def test_the_subrequests_own_method_does_not_matter(api_client, method):
    response = getattr(api_client, method)(URL, **original("POST", "/ml/predict"))

    assert response.status_code == 204
    assert response.content == b""


def test_without_the_original_request_everything_is_refused(api_client, staff_client):
    assert api_client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 403
    assert staff_client.get(URL, HTTP_X_ORIGINAL_URI="/ml/predict").status_code == 403


def test_the_refusals_are_json_with_a_detail(anonymous_client, api_client):
    train = original("POST", "/ml/train")
    for client, status in ((anonymous_client, 401), (api_client, 403)):
        response = client.get(URL, **train)
        assert response.status_code == status
        assert response.json()["detail"]


def test_missing_token_is_401_with_challenge(anonymous_client):
    response = anonymous_client.get(URL, **original("POST", "/ml/predict"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401_even_where_no_token_is_needed(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    assert anonymous_client.get(URL, **original("POST", "/ml/predict")).status_code == 401
    assert anonymous_client.get(URL, **original("GET", "/ml/health")).status_code == 401


def test_session_login_alone_is_not_enough(anonymous_client, user):
    anonymous_client.force_login(user)

    assert anonymous_client.get(URL, **original("POST", "/ml/predict")).status_code == 401


def test_an_inactive_users_token_is_401(api_client, user):
    user.is_active = False
    user.save()

    assert api_client.get(URL, **original("POST", "/ml/predict")).status_code == 401
