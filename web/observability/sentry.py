"""Error reporting to Sentry, switched on by SENTRY_DSN (see config/settings/base.py)."""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
        # No user ids, cookies, Authorization headers or client IPs in events.
        send_default_pii=False,
    )
