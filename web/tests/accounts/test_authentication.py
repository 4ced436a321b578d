"""A token verified recently keeps authenticating while Postgres is unreachable, unless it (or its
user's rights) was revoked since: revocation wins, and when Redis cannot tell, the answer is 503."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from redis import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from accounts.authentication import recent_tokens
from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

URL = "/api/auth/check/"
# What nginx sends for a consumer's POST /ml/predict and a staff-only POST /ml/train.
PREDICT = {"HTTP_X_ORIGINAL_METHOD": "POST", "HTTP_X_ORIGINAL_URI": "/ml/predict"}
TRAIN = {"HTTP_X_ORIGINAL_METHOD": "POST", "HTTP_X_ORIGINAL_URI": "/ml/train"}


@pytest.fixture(autouse=True)
def forget_tokens():
    recent_tokens.clear()
    cache.clear()
    yield
    recent_tokens.clear()
    cache.clear()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the revocation markers' on-commit writes, as a real commit would."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            change()

    return run


def database_down():
    return mock.patch.object(
        ApiToken.objects, "filter", side_effect=OperationalError("connection refused")
    )


def later():
    """Past every cache period (monotonic time only: wall-clock stamps are untouched)."""
    return mock.patch("accounts.authentication.time.monotonic", return_value=1e12)


def test_a_recently_verified_token_survives_a_database_outage(api_client):
    assert api_client.get(URL, **PREDICT).status_code == 204
    with database_down():
        assert api_client.get(URL, **PREDICT).status_code == 204


def test_a_token_never_verified_gets_503_during_an_outage(api_client):
    with database_down():
        response = api_client.get(URL, **PREDICT)
    assert response.status_code == 503
    assert response.json()["detail"]


def test_the_grace_period_ends(api_client, settings):
    assert api_client.get(URL, **PREDICT).status_code == 204
    settings.TOKEN_OUTAGE_GRACE_SECONDS = 0
    with database_down(), later():
        assert api_client.get(URL, **PREDICT).status_code == 503


def test_a_deleted_token_stops_working_while_the_database_answers(api_client, user):
    assert api_client.get(URL, **PREDICT).status_code == 204
    ApiToken.objects.filter(user=user).delete()
    assert api_client.get(URL, **PREDICT).status_code == 401


def test_a_staff_check_during_an_outage_uses_the_remembered_user(staff_client, api_client):
    assert staff_client.get(URL, **TRAIN).status_code == 204
    assert api_client.get(URL, **PREDICT).status_code == 204
    with database_down():
        assert staff_client.get(URL, **TRAIN).status_code == 204
        assert api_client.get(URL, **TRAIN).status_code == 403  # not staff, no DB needed


def test_a_verified_token_is_not_looked_up_again_within_the_cache_period(
    api_client, settings, django_assert_num_queries
):
    settings.TOKEN_CACHE_SECONDS = 60
    assert api_client.get(URL, **PREDICT).status_code == 204

    with django_assert_num_queries(0):
        assert api_client.get(URL, **PREDICT).status_code == 204


def test_a_deleted_token_stops_working_once_the_cache_period_is_over(api_client, user, settings):
    settings.TOKEN_CACHE_SECONDS = 60
    assert api_client.get(URL, **PREDICT).status_code == 204
    ApiToken.objects.filter(user=user).delete()
    assert api_client.get(URL, **PREDICT).status_code == 204  # trusted for the cache period

    with later():
        assert api_client.get(URL, **PREDICT).status_code == 401


def test_a_demoted_user_loses_staff_rights_once_the_cache_period_is_over(
    staff_client, staff_user, settings
):
    settings.TOKEN_CACHE_SECONDS = 60
    assert staff_client.get(URL, **TRAIN).status_code == 204
    staff_user.is_staff = False
    staff_user.save()

    with later():
        assert staff_client.get(URL, **TRAIN).status_code == 403
        assert staff_client.post("/api/train/").status_code == 403


def test_an_unknown_token_is_never_cached(anonymous_client, settings, django_assert_num_queries):
    settings.TOKEN_CACHE_SECONDS = 60
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    for _ in range(2):
        with django_assert_num_queries(1):
            assert anonymous_client.get(URL, **PREDICT).status_code == 401


# --- revocation wins over the outage grace --------------------------------------------------


def test_a_token_deleted_before_the_outage_is_refused_during_it(api_client, user, on_commit):
    assert api_client.get(URL, **PREDICT).status_code == 204
    on_commit(lambda: ApiToken.objects.filter(user=user).delete())

    with database_down():
        assert api_client.get(URL, **PREDICT).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="deactivated"),
        pytest.param({"is_staff": False}, id="demoted"),
        pytest.param({"password": "changed"}, id="password-changed"),
    ],
)
def test_a_user_whose_rights_shrank_is_refused_during_the_outage(
    staff_client, staff_user, on_commit, change
):
    assert staff_client.get(URL, **TRAIN).status_code == 204

    def apply():
        for field, value in change.items():
            if field == "password":
                staff_user.set_password(value)
            else:
                setattr(staff_user, field, value)
        staff_user.save()

    on_commit(apply)

    with database_down():
        assert staff_client.get(URL, **TRAIN).status_code == 401
        assert staff_client.get(URL, **PREDICT).status_code == 401


def test_revoking_one_token_leaves_the_users_other_tokens_working(
    api_client, user, on_commit, anonymous_client
):
    _, other_key = token_create(user=user, name="other")
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {other_key}")
    assert api_client.get(URL, **PREDICT).status_code == 204
    assert anonymous_client.get(URL, **PREDICT).status_code == 204
    on_commit(lambda: ApiToken.objects.filter(user=user).exclude(name="other").delete())

    with database_down():
        assert api_client.get(URL, **PREDICT).status_code == 401
        assert anonymous_client.get(URL, **PREDICT).status_code == 204


def test_a_token_verified_after_a_users_change_survives_the_outage(
    staff_client, staff_user, on_commit
):
    """A marker cancels verifications older than itself only: a demoted user may still predict."""
    staff_user.is_staff = False
    on_commit(staff_user.save)
    assert staff_client.get(URL, **PREDICT).status_code == 204

    with database_down():
        assert staff_client.get(URL, **PREDICT).status_code == 204
        assert staff_client.get(URL, **TRAIN).status_code == 403


def test_an_expired_token_is_refused_during_the_outage(user, anonymous_client):
    token, key = token_create(user=user, name="short", expires_in=timedelta(seconds=60))
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anonymous_client.get(URL, **PREDICT).status_code == 204
    past_expiry = mock.patch(
        "accounts.authentication.timezone.now", return_value=token.expiry + timedelta(seconds=1)
    )

    with database_down(), past_expiry:
        assert anonymous_client.get(URL, **PREDICT).status_code == 401


def test_without_redis_the_outage_path_fails_closed(api_client):
    assert api_client.get(URL, **PREDICT).status_code == 204
    redis_down = mock.patch(
        "accounts.revocation.cache.get_many", side_effect=RedisConnectionError("refused")
    )

    with database_down(), redis_down:
        response = api_client.get(URL, **PREDICT)
    assert response.status_code == 503
    assert response.json()["detail"]


def test_a_token_revoked_through_the_api_is_refused_during_the_outage(user, on_commit):
    token, key = token_create(user=user, name="doomed")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(URL, **PREDICT).status_code == 204
    on_commit(lambda: client.delete(f"/api/auth/tokens/{token.pk}/"))

    with database_down():
        assert client.get(URL, **PREDICT).status_code == 401


def test_a_deleted_users_tokens_are_refused_during_the_outage(api_client, user, on_commit):
    assert api_client.get(URL, **PREDICT).status_code == 204
    on_commit(user.delete)

    with database_down():
        assert api_client.get(URL, **PREDICT).status_code == 401


def test_the_check_names_the_tokens_user_for_the_ml_apis_records(api_client, user):
    response = api_client.get(URL, **PREDICT)
    assert response.status_code == 204
    assert response["X-Auth-User"] == user.get_username()
