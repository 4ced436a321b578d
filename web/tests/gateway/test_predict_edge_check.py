"""nginx's token check for POST /api/predict/ (gateway.apis.PredictEdgeCheckApi): the action's
rule decides, and a yes names the per-token budget that web's own throttle counts in, so the ML
API, counting there, draws on the very same budget."""

import pytest
from django.core.cache import cache
from knox.models import get_token_model
from textclf_ops.throttle import Budget, RedisWindowCounter

from tests.common.test_throttling import REDIS_TEST_URL, redis_cache

pytestmark = pytest.mark.django_db

URL = "/edge/predict-check/"


@pytest.fixture
def user_rate(settings):
    def set_rate(rate: str | None) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": rate, "anon": "1000/min"},
        }

    return set_rate


def test_a_consumer_may_predict_and_is_told_its_budget(api_client, user, user_rate):
    user_rate("6000/min")

    response = api_client.get(URL)

    assert response.status_code == 204
    assert response.content == b""
    assert Budget.parse(response["X-Edge-Budget"]) == Budget(
        f"textclf-web:throttle:user:{user.pk}", 6000, 60
    )


def test_staff_may_predict(staff_client, staff_user):
    response = staff_client.get(URL)

    assert response.status_code == 204
    assert Budget.parse(response["X-Edge-Budget"]).key.endswith(f":user:{staff_user.pk}")


def test_without_a_valid_token_the_answer_is_401(anonymous_client, api_client, user):
    assert anonymous_client.get(URL).status_code == 401
    get_token_model().objects.filter(user=user).delete()
    assert api_client.get(URL).status_code == 401


def test_an_inactive_users_token_is_refused(api_client, user):
    user.is_active = False
    user.save()

    assert api_client.get(URL).status_code == 401


def test_a_session_is_not_enough(anonymous_client, user):
    """Token only: a session's prediction goes to web, which checks its CSRF token."""
    anonymous_client.force_login(user)

    assert anonymous_client.get(URL).status_code == 401


@pytest.mark.parametrize("method", ["get", "head", "post", "put", "patch", "delete"])
def test_every_method_is_checked_as_a_prediction(api_client, method):
    assert getattr(api_client, method)(URL).status_code == 204


def test_without_a_user_rate_the_budget_is_none(api_client, user_rate):
    user_rate(None)

    assert api_client.get(URL)["X-Edge-Budget"] == "none"


def test_the_check_itself_counts_nothing(api_client, user_rate, settings):
    settings.CACHES = redis_cache(REDIS_TEST_URL)
    cache.clear()
    user_rate("2/min")

    statuses = [api_client.get(URL).status_code for _ in range(5)]

    assert statuses == [204] * 5
    assert api_client.get("/api/data/")["X-RateLimit-Remaining"] == "1"
    cache.clear()


def test_what_the_ml_api_counts_in_the_budget_web_counts_too(api_client, user_rate, settings):
    settings.CACHES = redis_cache(REDIS_TEST_URL)
    cache.clear()
    user_rate("3/min")
    budget = Budget.parse(api_client.get(URL)["X-Edge-Budget"])
    counter = RedisWindowCounter(REDIS_TEST_URL, {})

    assert counter.hit(budget.key, budget.window)[0] == 1
    assert counter.hit(budget.key, budget.window)[0] == 2

    first, second = api_client.get("/api/data/"), api_client.get("/api/data/")
    assert (first.status_code, first["X-RateLimit-Remaining"]) == (200, "0")
    assert second.status_code == 429
    cache.clear()
