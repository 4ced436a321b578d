"""Who may do what: one rule per action, whatever the door (`/api/…` or nginx's `/ml/…`).

DRF views take their permission classes from `permission_for(...)`; nginx's auth_request for
`/ml/` asks `/api/auth/check/`, which maps the original method and path to an action with
`ML_ROUTES` and applies the same rule. A `/ml/` route missing from the table is refused, so a
route added to the ML API later stays closed until someone decides who may use it.
"""

import enum
import re

from rest_framework.permissions import BasePermission


class Role(enum.IntEnum):
    """Ordered: a role may do whatever a lower one may."""

    ANONYMOUS = 0
    CONSUMER = 1  # any active user with a token (or a session)
    STAFF = 2


class Action(enum.StrEnum):
    CHECK_HEALTH = "check health"
    READ_API_DOCS = "read the API docs"
    READ_DATA = "read data"
    WRITE_DATA = "write data"
    PREDICT = "predict"
    SEND_FEEDBACK = "send feedback"
    READ_MODELS = "read models"
    READ_TRAINING_JOBS = "read training jobs"
    START_TRAINING = "start training"
    ACTIVATE_MODEL = "activate a model"
    PROMOTE_MODEL = "promote a candidate model"
    ROLLBACK_MODEL = "roll production back to a kept model"
    MANAGE_OWN_TOKENS = "manage own tokens"


RULES: dict[Action, Role] = {
    Action.CHECK_HEALTH: Role.ANONYMOUS,
    # The schema and its two UIs hold no data; every operation they describe still needs a token.
    Action.READ_API_DOCS: Role.ANONYMOUS,
    Action.READ_DATA: Role.CONSUMER,
    Action.WRITE_DATA: Role.CONSUMER,
    Action.PREDICT: Role.CONSUMER,
    # Feedback rows are stored unverified: they train a model only once staff verify them
    # (or with TRAIN_VERIFIED_ONLY=false, the default).
    Action.SEND_FEEDBACK: Role.CONSUMER,
    Action.READ_MODELS: Role.CONSUMER,
    Action.READ_TRAINING_JOBS: Role.CONSUMER,
    # Training and activation change what every consumer is served.
    Action.START_TRAINING: Role.STAFF,
    Action.ACTIVATE_MODEL: Role.STAFF,
    Action.PROMOTE_MODEL: Role.STAFF,
    Action.ROLLBACK_MODEL: Role.STAFF,
    Action.MANAGE_OWN_TOKENS: Role.CONSUMER,
}


def role_of(user) -> Role:
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.ANONYMOUS
    return Role.STAFF if user.is_staff else Role.CONSUMER


def allows(action: Action, user) -> bool:
    return role_of(user) >= RULES[action]


# The ML API's routes (algorithm/mlservice/api/*.py) as nginx forwards them, `/ml/` + route.
# Anything else under /ml/ (or another method) has no action and is refused.
_SEGMENT = r"[^/?#]+"
ML_ROUTES: tuple[tuple[str, re.Pattern[str], Action], ...] = tuple(
    (method, re.compile(rf"^/ml{path}$"), action)
    for method, path, action in (
        ("GET", "/health", Action.CHECK_HEALTH),
        ("GET", "/health/live", Action.CHECK_HEALTH),
        ("GET", "/health/ready", Action.CHECK_HEALTH),
        ("POST", "/predict", Action.PREDICT),
        ("GET", "/models", Action.READ_MODELS),
        ("GET", f"/models/{_SEGMENT}", Action.READ_MODELS),
        ("POST", f"/models/{_SEGMENT}/activate", Action.ACTIVATE_MODEL),
        ("POST", f"/models/{_SEGMENT}/promote", Action.PROMOTE_MODEL),
        ("POST", f"/models/{_SEGMENT}/rollback", Action.ROLLBACK_MODEL),
        ("GET", "/train", Action.READ_TRAINING_JOBS),
        ("POST", "/train", Action.START_TRAINING),
        ("GET", f"/train/{_SEGMENT}", Action.READ_TRAINING_JOBS),
    )
)


def ml_action(method: str, uri: str) -> Action | None:
    """The action of an /ml/ request (`uri` as the client sent it, query string included)."""
    method = method.upper()
    if method == "HEAD":
        method = "GET"  # Flask answers HEAD wherever it answers GET
    path = uri.split("?", 1)[0].split("#", 1)[0]
    for route_method, pattern, action in ML_ROUTES:
        if route_method == method and pattern.match(path):
            return action
    return None


def permission_for(default: Action, **by_method: Action) -> type[BasePermission]:
    """A DRF permission class: `by_method` (e.g. POST=Action.START_TRAINING) overrides the
    action of the methods it names; every other method is `default`."""
    actions = {method.upper(): action for method, action in by_method.items()}

    class ActionPermission(BasePermission):
        def has_permission(self, request, view) -> bool:
            return allows(actions.get(request.method, default), request.user)

    names = ", ".join(f"{m}: {a}" for m, a in actions.items())
    ActionPermission.__name__ = ActionPermission.__qualname__ = (
        f"May[{default}{'; ' + names if names else ''}]"
    )
    return ActionPermission
