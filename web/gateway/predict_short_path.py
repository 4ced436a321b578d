"""The short path of POST /api/predict/: a token-authenticated prediction of one text, answered
with the same rules as DRF's path but without its per-request machinery.

What it skips, because such a call does not need it: DRF's Request wrapper, its content
negotiation (only calls whose Accept header can only mean JSON come here), the session
authenticator (only calls with a token come here), and the input serializer, whose
construction deep-copies its declared fields on every call (BENCHMARKS.md, "History"). What it
keeps, through the very same objects: the token authenticator and its cache, the action's rule
(accounts.policies), the view's throttles (so the rate-limit headers and counts are DRF's),
the ML client, and the API's exception handler for the ML service's failures.

The test of a plain call is textclf_ops.predict_call's, which the ML API applies too when nginx
sends it such a call straight from the public route.

The decision is made before anything has a side effect: a call that is not a plain valid one
(no token, a bad or revoked one, a rule that refuses, a body that is not exactly `{"text": ...}`
or `{"text": ..., "explain": k}` with valid values, any other Accept, a query string) returns
None here and DRF answers it exactly as before, with its own error shapes. The one exception
is the throttle: a throttled call, counted here, is counted a second time by DRF, which answers
the 429; the caller's window is already over its limit, so the answer and its headers are the
same.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from textclf_ops import predict_call
from textclf_ops.predict_call import is_plain_request

from accounts.authentication import OutageTolerantTokenAuthentication
from accounts.policies import Action, allows
from common.errors import api_exception_handler
from integrations.ml_service.client import get_ml_client
from integrations.ml_service.exceptions import MLServiceError

_AUTHENTICATOR = OutageTolerantTokenAuthentication()
_RENDERER = JSONRenderer()


def answer(view, request: HttpRequest, args: tuple, kwargs: dict) -> HttpResponse | None:
    """The answer to a plain valid prediction call, or None for DRF to answer it."""
    if not _is_candidate(request):
        return None
    try:
        credentials = _AUTHENTICATOR.authenticate(request)
    except (exceptions.APIException, DatabaseError):
        return None  # DRF authenticates again and answers 401 or 503
    if credentials is None or not allows(Action.PREDICT, credentials[0]):
        return None
    payload = plain_payload(request.body)
    if payload is None:
        return None
    # What DRF's Request does with the result of authentication.
    request.user, request.auth = credentials
    view.args, view.kwargs, view.request = args, kwargs, request
    view.headers = view.default_response_headers
    for throttle in view.get_throttles():
        if not throttle.allow_request(request, view):
            return None
    request.accepted_renderer, request.accepted_media_type = _RENDERER, _RENDERER.media_type
    try:
        result = get_ml_client().predict(payload)
    except MLServiceError as exc:
        response = api_exception_handler(exc, {"view": view, "request": request})
    else:
        # Relayed as received, as the view does.
        response = HttpResponse(
            result.content, status=result.status_code, content_type="application/json"
        )
    return view.finalize_response(request, response, *args, **kwargs)


def _is_candidate(request: HttpRequest) -> bool:
    meta = request.META
    if request.method != "POST" or not meta.get("HTTP_AUTHORIZATION"):
        return False
    return is_plain_request(
        query_string=meta.get("QUERY_STRING", ""),
        accept=meta.get("HTTP_ACCEPT", ""),
        content_type=meta.get("CONTENT_TYPE", ""),
        content_length=meta.get("CONTENT_LENGTH", ""),
        max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    )


def plain_payload(body: bytes) -> dict[str, Any] | None:
    """`{"text": ...}` (with `explain`, if sent) when the body is exactly a valid single-text
    call under PredictInputSerializer's rules; None for anything else, valid or not."""
    return predict_call.plain_payload(body, text_max_length=settings.TEXT_MAX_LENGTH)
