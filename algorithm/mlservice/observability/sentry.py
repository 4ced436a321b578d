"""Error reporting to Sentry, on only when SENTRY_DSN is set.

The API (Flask integration: unhandled route exceptions) and the worker (Celery integration:
task exceptions, in every pool child) report with the environment and release from the settings.
No personal data: send_default_pii stays at its default, off (sentry-sdk 2.75 deprecates passing
it, in favour of `data_collection`, whose defaults are the same), and the service token joins the
headers Sentry already scrubs (Authorization, Cookie, ...). No texts either: not the request
bodies (texts to classify), not the local variables of the stack frames (the parsed body in the
API, the training rows in the worker), not the breadcrumbs made of log lines. `event_without_texts`
drops whatever an integration might add later, so the guarantee does not rest on one option.
Task arguments stay: they are job ids and model versions, never texts.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

from mlservice.config import Settings

# Header names as Sentry records them (WSGI style and HTTP style).
_SECRET_HEADERS = ["x-service-token", "x_service_token", "http_x_service_token"]


def init(settings: Settings, *, service: str) -> bool:
    """Start reporting if a DSN is configured; returns whether it did."""
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment,
        release=settings.sentry_release,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=event_without_texts,
        before_send_transaction=event_without_texts,
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *_SECRET_HEADERS], recursive=True
        ),
        integrations=[FlaskIntegration(), CeleryIntegration()],
    )
    sentry_sdk.set_tag("service", service)
    return True


def event_without_texts(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "query_string", "cookies", "env"):
            request.pop(key, None)
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    event.pop("breadcrumbs", None)
    return event
