"""The one place that turns exceptions into API error responses.

Shape: {"detail": "<one readable sentence>"} for every error, plus "errors" (field -> messages;
for bulk input, item index -> field -> messages) for validation errors. Exceptions that are not
mapped here propagate and become a logged 500.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from psycopg.errors import QueryCanceled
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from integrations.ml_service.exceptions import MLServiceRejected, MLServiceUnavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again shortly."
    default_code = "database_unavailable"


class DatabaseTimeout(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_timeout"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request depends on is unavailable; try again shortly."
    default_code = "service_unavailable"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, MLServiceRejected):
        # The ML service's own 4xx answer (400/404/409...) is the answer to the client.
        return Response(exc.body, status=exc.status_code)

    response = drf_exception_handler(_as_api_exception(exc), context)
    if response is not None and isinstance(exc, exceptions.ValidationError | DjangoValidationError):
        errors = _normalise_errors(response.data)
        response.data = {"detail": _summarise(errors), "errors": errors}
    return response


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, ObjectDoesNotExist):
        # E.g. a row deleted by a concurrent request between the view's read and its write.
        return exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, OperationalError) and isinstance(exc.__cause__, QueryCanceled):
        # DATABASE_STATEMENT_TIMEOUT_MS (or the bulk insert's own): the database is up, this
        # statement was too costly.
        logger.warning("Database statement cancelled: %s", exc)
        return DatabaseTimeout(
            "The database took too long to answer; narrow the query or retry shortly."
        )
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("Database unavailable: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, MLServiceUnavailable):
        logger.warning("ML service unavailable: %s", exc.reason)
        return ServiceUnavailable(str(exc))
    return exc


def _normalise_errors(detail: Any) -> dict[str, Any]:
    """Always a mapping: bulk (list) errors keyed by the failing items' indexes."""
    if isinstance(detail, Mapping):
        return dict(detail)
    if isinstance(detail, list) and any(isinstance(item, Mapping) for item in detail):
        return {str(index): item for index, item in enumerate(detail) if item}
    messages = detail if isinstance(detail, list) else [detail]
    return {api_settings.NON_FIELD_ERRORS_KEY: messages}


def _summarise(errors: Mapping[str, Any]) -> str:
    """'Invalid input: <path>: <first message>', e.g. 'Invalid input: 3.text: This field ...'."""
    path, message = _first_error(errors)
    where = ".".join(part for part in path if part != api_settings.NON_FIELD_ERRORS_KEY)
    return f"Invalid input: {where}: {message}" if where else f"Invalid input: {message}"


def _first_error(errors: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
    """Depth first: the path to the first message, and the message."""
    if isinstance(errors, Mapping):
        children = [(str(key), value) for key, value in errors.items()]
    elif isinstance(errors, list) and errors and isinstance(errors[0], Mapping | list):
        children = [(str(index), value) for index, value in enumerate(errors)]
    elif isinstance(errors, list):
        return path, str(errors[0]) if errors else "Invalid input."
    else:
        return path, str(errors)
    for key, value in children:
        if value:
            return _first_error(value, (*path, key))
    return path, "Invalid input."
