"""Error reporting to Sentry, on only when SENTRY_DSN is set (textclf_ops.sentry: no texts, no
credentials, no personal data).

The API (Flask integration: unhandled route exceptions) and the worker (Celery integration:
task exceptions, in every pool child) report with the environment and release from the settings.
Task arguments stay: they are job ids and model versions, never texts.
"""

from __future__ import annotations

from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from textclf_ops.sentry import sentry_init

from mlservice.config import Settings


def init(settings: Settings, *, service: str) -> bool:
    """Start reporting if a DSN is configured; returns whether it did."""
    return sentry_init(
        service=service,
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        release=settings.sentry_release,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        integrations=[FlaskIntegration(), CeleryIntegration()],
    )
