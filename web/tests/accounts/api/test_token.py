import pytest

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/auth/token/"
CREDENTIALS = {"username": "alice", "password": "alice-password"}


def test_valid_credentials_return_a_new_login_token(anonymous_client, user, settings):
    response = anonymous_client.post(URL, CREDENTIALS)

    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    token = ApiToken.objects.get(user=user)
    assert token.name == "login"
    assert token.expiry is not None
    remaining = (token.expiry - token.created).total_seconds()
    assert abs(remaining - settings.LOGIN_TOKEN_EXPIRES_SECONDS) < 5


def test_the_key_is_not_stored(anonymous_client, user):
    key = anonymous_client.post(URL, CREDENTIALS).json()["token"]

    stored = ApiToken.objects.values().get(user=user)
    assert key not in {str(value) for value in stored.values()}
    assert not any(key in str(value) for value in stored.values())


def test_each_login_is_a_new_token(anonymous_client, user):
    first = anonymous_client.post(URL, CREDENTIALS).json()["token"]
    second = anonymous_client.post(URL, CREDENTIALS).json()["token"]

    assert first != second
    assert ApiToken.objects.filter(user=user).count() == 2


def test_no_expiry_when_the_setting_is_zero(anonymous_client, user, settings):
    settings.LOGIN_TOKEN_EXPIRES_SECONDS = 0

    anonymous_client.post(URL, CREDENTIALS)

    assert ApiToken.objects.get(user=user).expiry is None


def test_the_token_authenticates_api_calls(anonymous_client, user):
    token = anonymous_client.post(URL, CREDENTIALS)
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
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(anonymous_client, user):
    user.is_active = False
    user.save()

    response = anonymous_client.post(URL, CREDENTIALS)

    assert response.status_code == 400
