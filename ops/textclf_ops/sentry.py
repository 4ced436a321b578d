"""Error reporting to Sentry, on only when a DSN is set; the same guarantees in both services.

Events never carry a user's texts or credentials: no request bodies (texts to store or
classify), no query strings (`?search=` is a piece of a text), no local variables of the stack
frames (they hold the parsed body, or training rows), no cookies, no user ids or client IPs, no
breadcrumbs made of log lines. send_default_pii stays at its default, off (sentry-sdk deprecates
passing it), and the service token joins the headers Sentry already scrubs (Authorization,
Cookie, ...). `event_without_user_data` also drops whatever an integration might add later, so
the guarantee does not rest on one option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

# Header names as Sentry records them (WSGI style and HTTP style).
_SECRET_HEADERS = ("x-service-token", "x_service_token", "http_x_service_token")
_REQUEST_KEYS_DROPPED = ("data", "query_string", "cookies", "env")


def init_options(
    *,
    dsn: str,
    environment: str,
    release: str,
    traces_sample_rate: float,
    integrations: Sequence[Integration],
) -> dict[str, Any]:
    """sentry_sdk.init's arguments (kept apart so that tests can read them)."""
    return {
        "dsn": dsn,
        "environment": environment,
        "release": release,
        "traces_sample_rate": traces_sample_rate,
        "integrations": list(integrations),
        "max_request_body_size": "never",
        "include_local_variables": False,
        "before_send": event_without_user_data,
        "before_send_transaction": event_without_user_data,
        "event_scrubber": EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *_SECRET_HEADERS], recursive=True
        ),
    }


def sentry_init(*, service: str, **options: Any) -> bool:
    """Start reporting if `dsn` is set (options as init_options takes); returns whether it did."""
    if not options.get("dsn"):
        return False
    sentry_sdk.init(**init_options(**options))
    sentry_sdk.set_tag("service", service)
    return True


def event_without_user_data(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        for key in _REQUEST_KEYS_DROPPED:
            request.pop(key, None)
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    event.pop("breadcrumbs", None)
    return event
