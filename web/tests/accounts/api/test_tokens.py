"""A user's own named tokens: list (never a key), create (key shown once, optional expiry),
revoke one."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

URL = "/api/auth/tokens/"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_shows_the_key_once_and_it_works(api_client, user):
    response = api_client.post(URL, {"name": "ci"})

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "ci"
    assert body["expiry"] is None
    assert client_with(body["token"]).get("/api/data/").status_code == 200
    listed = api_client.get(URL).json()
    assert "ci" in [token["name"] for token in listed]
    assert all("token" not in token and "digest" not in token for token in listed)


def test_a_token_with_an_expiry_stops_working_after_it(api_client, user):
    body = api_client.post(URL, {"name": "short", "expires_in": 60}).json()
    token = ApiToken.objects.get(pk=body["id"])
    assert timedelta(seconds=55) < token.expiry - timezone.now() <= timedelta(seconds=60)

    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    assert client_with(body["token"]).get("/api/data/").status_code == 401
    assert body["id"] not in [t["id"] for t in api_client.get(URL).json()]


def test_an_expiring_token_cannot_mint_one_that_outlives_it(user):
    caller, key = token_create(user=user, name="short", expires_in=timedelta(hours=1))

    body = client_with(key).post(URL, {"name": "forever"}).json()

    assert ApiToken.objects.get(pk=body["id"]).expiry <= caller.expiry


def test_revoke_one_token_keeps_the_others(user):
    _, keep = token_create(user=user, name="keep")
    doomed, doomed_key = token_create(user=user, name="doomed")

    response = client_with(keep).delete(f"{URL}{doomed.pk}/")

    assert response.status_code == 204
    assert client_with(doomed_key).get("/api/data/").status_code == 401
    assert client_with(keep).get("/api/data/").status_code == 200


def test_a_token_can_revoke_itself(user):
    token, key = token_create(user=user, name="self")

    assert client_with(key).delete(f"{URL}{token.pk}/").status_code == 204
    assert client_with(key).get("/api/data/").status_code == 401


def test_nobody_sees_or_revokes_anothers_tokens(api_client, staff_user):
    theirs, their_key = token_create(user=staff_user, name="theirs")

    assert theirs.pk not in [t["id"] for t in api_client.get(URL).json()]
    response = api_client.delete(f"{URL}{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert client_with(their_key).get("/api/data/").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": 5},
        {"name": "a", "expires_in": 0},
        {"name": "a", "expires_in": -5},
        {"name": "a", "expires_in": 10**12},
        {"name": "a", "expires_in": "soon"},
        {"name": "a", "scope": "admin"},
    ],
)
def test_bad_input_is_400_and_creates_nothing(api_client, user, payload):
    before = ApiToken.objects.count()

    response = api_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json()["detail"]
    assert ApiToken.objects.count() == before


def test_anonymous_is_401(anonymous_client):
    assert anonymous_client.get(URL).status_code == 401
    assert anonymous_client.post(URL, {"name": "x"}).status_code == 401
    assert anonymous_client.delete(f"{URL}1/").status_code == 401
