"""One JSON error shape for every failure: {"detail": "...", ...extra fields}.

Werkzeug's HTTP errors (404, 405, 413, 415, ...) are rendered the same way, so no HTML page
ever leaves the API. A dead database maps to 503. An unexpected exception is logged by Flask with
its traceback and reaches the InternalServerError (500) handler here: a JSON body, no internals.
"""

from __future__ import annotations

from typing import Any

import psycopg
import structlog
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)

_HTTP_DETAILS = {
    400: "The request is malformed.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body is too large.",
    415: "Unsupported media type; send JSON with Content-Type: application/json.",
    500: "Internal server error.",
}


class ApiError(Exception):
    """An error response; `extra` adds fields such as field `errors` or a `job_id`."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def error_response(status: int, detail: str, **extra: Any):
    return jsonify({"detail": detail, **extra}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.status, error.detail, **error.extra)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        response = error.get_response()
        body, _ = error_response(status, _HTTP_DETAILS.get(status, error.name + "."))
        body.status_code = status
        # Keep headers such as Allow on 405.
        for header, value in response.headers.items():
            if header.lower() not in ("content-type", "content-length"):
                body.headers[header] = value
        return body

    @app.errorhandler(psycopg.OperationalError)
    def handle_database_unavailable(error: psycopg.OperationalError):
        log.error("Database unavailable", error=str(error))
        return error_response(503, "The database is unavailable; try again shortly.")
