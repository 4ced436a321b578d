"""The shared secret on internal calls: every route but health checks and metrics needs it.

nginx (for /ml/) and the web gateway send `X-Service-Token`; a request without the right one gets
401 before routing, so an unauthenticated caller learns nothing about which routes exist.
Health checks and Prometheus scrapes stay open: containers and Prometheus call them directly.
"""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request

from mlservice.api.errors import ApiError

TOKEN_HEADER = "X-Service-Token"  # noqa: S105 - a header name, not a secret


def is_open_path(path: str) -> bool:
    return path in ("/health", "/metrics") or path.startswith("/health/")


def require_service_token() -> None:
    if is_open_path(request.path):
        return
    expected = current_app.config["SETTINGS"].ml_service_token.get_secret_value()
    sent = request.headers.get(TOKEN_HEADER, "")
    # Constant-time, so response timing does not reveal how much of a guess was right.
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8")):
        raise ApiError(401, f"A valid {TOKEN_HEADER} header is required.")


def init_app(app: Flask) -> None:
    app.before_request(require_service_token)
