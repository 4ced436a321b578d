import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

URL = "/api/auth/token/"


def test_valid_credentials_return_the_users_token(anonymous_client, user):
    response = anonymous_client.post(URL, {"username": "alice", "password": "alice-password"})

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_the_same_token_is_returned_on_every_login(anonymous_client, user):
    credentials = {"username": "alice", "password": "alice-password"}

    first = anonymous_client.post(URL, credentials).json()["token"]
    second = anonymous_client.post(URL, credentials).json()["token"]

    assert first == second


def test_the_token_authenticates_api_calls(anonymous_client, user):
    token = anonymous_client.post(URL, {"username": "alice", "password": "alice-password"})
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    assert anonymous_client.get("/api/data/").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "alice-password"},
        {"username": "alice"},
        {"username": "alice", "password": ""},
        {"username": "alice", "password": 123},
        {"username": "alice", "password": "alice-password", "remember": True},
    ],
)
def test_bad_credentials_are_400_without_a_token(anonymous_client, user, payload):
    response = anonymous_client.post(URL, payload)

    assert response.status_code == 400
    assert "token" not in response.json()
    assert "detail" in response.json()
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(anonymous_client, user):
    user.is_active = False
    user.save()

    response = anonymous_client.post(URL, {"username": "alice", "password": "alice-password"})

    assert response.status_code == 400
