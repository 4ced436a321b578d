"""A token verified recently keeps authenticating while Postgres is unreachable, and only then."""

from unittest import mock

import pytest
from django.db import OperationalError
from rest_framework.authtoken.models import Token

from accounts.authentication import recent_tokens

pytestmark = pytest.mark.django_db

URL = "/api/auth/check/"


@pytest.fixture(autouse=True)
def forget_tokens():
    recent_tokens.clear()
    yield
    recent_tokens.clear()


def database_down():
    return mock.patch.object(
        Token.objects, "select_related", side_effect=OperationalError("connection refused")
    )


def test_a_recently_verified_token_survives_a_database_outage(api_client):
    assert api_client.get(URL).status_code == 204
    with database_down():
        assert api_client.get(URL).status_code == 204


def test_a_token_never_verified_gets_503_during_an_outage(api_client):
    with database_down():
        response = api_client.get(URL)
    assert response.status_code == 503
    assert response.json()["detail"]


def test_the_grace_period_ends(api_client, settings):
    assert api_client.get(URL).status_code == 204
    settings.TOKEN_OUTAGE_GRACE_SECONDS = 0
    with database_down(), mock.patch("accounts.authentication.time.monotonic", return_value=1e12):
        assert api_client.get(URL).status_code == 503


def test_a_deleted_token_stops_working_while_the_database_answers(api_client, user):
    assert api_client.get(URL).status_code == 204
    Token.objects.filter(user=user).delete()
    assert api_client.get(URL).status_code == 401


def test_a_staff_check_during_an_outage_uses_the_remembered_user(staff_client, api_client):
    assert staff_client.get(URL).status_code == 204
    assert api_client.get(URL).status_code == 204
    with database_down():
        assert staff_client.get(URL).status_code == 204
        assert api_client.post("/api/train/").status_code == 403  # not staff, no DB needed


def test_a_verified_token_is_not_looked_up_again_within_the_cache_period(
    api_client, settings, django_assert_num_queries
):
    settings.TOKEN_CACHE_SECONDS = 60
    assert api_client.get(URL).status_code == 204

    with django_assert_num_queries(0):
        assert api_client.get(URL).status_code == 204


def test_a_deleted_token_stops_working_once_the_cache_period_is_over(api_client, user, settings):
    settings.TOKEN_CACHE_SECONDS = 60
    assert api_client.get(URL).status_code == 204
    Token.objects.filter(user=user).delete()
    assert api_client.get(URL).status_code == 204  # trusted for the cache period

    with mock.patch("accounts.authentication.time.monotonic", return_value=1e12):
        assert api_client.get(URL).status_code == 401


def test_an_unknown_token_is_never_cached(anonymous_client, settings, django_assert_num_queries):
    settings.TOKEN_CACHE_SECONDS = 60
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    for _ in range(2):
        with django_assert_num_queries(1):
            assert anonymous_client.get(URL).status_code == 401
