"""The authorization rules, and that every door uses them: each /api/ view takes its permission
from accounts.policies, and every route of the ML API has an action in the /ml/ table."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny

from accounts.policies import RULES, Action, Role, allows, ml_action, role_of

ML_API = Path(__file__).resolve().parents[3] / "algorithm" / "mlservice" / "api"


def test_the_rules():
    assert RULES == {
        Action.CHECK_HEALTH: Role.ANONYMOUS,
        Action.READ_API_DOCS: Role.ANONYMOUS,
        Action.READ_DATA: Role.CONSUMER,
        Action.WRITE_DATA: Role.CONSUMER,
        Action.PREDICT: Role.CONSUMER,
        Action.SEND_FEEDBACK: Role.CONSUMER,
        Action.READ_MODELS: Role.CONSUMER,
        Action.READ_TRAINING_JOBS: Role.CONSUMER,
        Action.START_TRAINING: Role.STAFF,
        Action.ACTIVATE_MODEL: Role.STAFF,
        Action.PROMOTE_MODEL: Role.STAFF,
        Action.ROLLBACK_MODEL: Role.STAFF,
        Action.MANAGE_OWN_TOKENS: Role.CONSUMER,
    }


def test_roles():
    assert role_of(AnonymousUser()) is Role.ANONYMOUS
    assert role_of(User(username="c")) is Role.CONSUMER
    assert role_of(User(username="s", is_staff=True)) is Role.STAFF
    assert role_of(User(username="x", is_staff=True, is_active=False)) is Role.ANONYMOUS
    assert not allows(Action.START_TRAINING, User(username="c"))
    assert allows(Action.START_TRAINING, User(username="s", is_staff=True))


def _ml_api_routes() -> list[tuple[str, str]]:
    routes = []
    for source in ML_API.glob("*.py"):
        for method, path in re.findall(
            r'@bp\.(get|post|put|patch|delete)\("([^"]+)"', source.read_text()
        ):
            routes.append((method.upper(), re.sub(r"<[^>]+>", "some-id", path)))
    return routes


def test_the_ml_api_routes_are_found():
    assert ("POST", "/train") in _ml_api_routes()


@pytest.mark.parametrize(("method", "path"), _ml_api_routes())
def test_every_ml_api_route_has_an_action_but_metrics(method, path):
    """A route added to the ML API fails here until the table says who may use it."""
    action = ml_action(method, f"/ml{path}")
    if path == "/metrics":
        assert action is None  # Prometheus scrapes it inside; nginx never routes it
    else:
        assert action is not None


def _api_views():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                if view is not None and (prefix + str(pattern.pattern)).startswith("api/"):
                    yield prefix + str(pattern.pattern), view

    return list(walk(get_resolver().url_patterns))


# Views that decide for themselves: health, the logins, the schema (any authenticated user),
# and the auth check, which applies the policy to the /ml/ route it is asked about.
OWN_RULES = {
    "HealthReadyApi",
    "HealthLiveApi",
    "TokenObtainApi",
    "SpectacularAPIView",
    "AuthCheckApi",
}


@pytest.mark.parametrize(("route", "view"), _api_views())
def test_every_api_view_takes_its_permission_from_the_policy(route, view):
    if view.__name__ in OWN_RULES:
        return
    names = [permission.__name__ for permission in view.permission_classes]
    assert names, route
    assert all(name.startswith("May[") for name in names), (route, names)
    assert AllowAny not in view.permission_classes
