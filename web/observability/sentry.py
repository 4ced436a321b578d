"""Error reporting to Sentry, switched on by SENTRY_DSN (see config/settings/base.py).

Events never carry a user's texts or credentials: no request bodies (texts to store or
classify), no query strings (`?search=` is a piece of a text), no local variables of the
stack frames (they hold the parsed body), no cookies, no user ids or client IPs, and the
Authorization header is scrubbed by Sentry's default denylist. `event_without_user_data` also
drops whatever an integration might add later, so the guarantee does not rest on one option.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

_REQUEST_KEYS_DROPPED = ("data", "query_string", "cookies", "env")


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    # send_default_pii is left at its default (off): sentry-sdk deprecates passing it.
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
        max_request_body_size="never",
        include_local_variables=False,
        before_send=event_without_user_data,
        before_send_transaction=event_without_user_data,
    )


def event_without_user_data(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        for key in _REQUEST_KEYS_DROPPED:
            request.pop(key, None)
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    # Log lines become breadcrumbs; their data and messages may quote a request.
    event.pop("breadcrumbs", None)
    return event
