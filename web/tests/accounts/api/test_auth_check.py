import pytest

pytestmark = pytest.mark.django_db

URL = "/api/auth/check/"


@pytest.mark.parametrize("method", ["get", "head", "post", "put", "patch", "delete"])
def test_valid_token_is_204_for_any_method(api_client, method):
    response = getattr(api_client, method)(URL)

    assert response.status_code == 204
    assert response.content == b""


def test_missing_token_is_401_with_challenge(anonymous_client):
    response = anonymous_client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    assert anonymous_client.get(URL).status_code == 401


def test_session_login_alone_is_not_enough(anonymous_client, user):
    anonymous_client.force_login(user)

    assert anonymous_client.get(URL).status_code == 401
