"""The short path of POST /api/predict/: a token-authenticated prediction of one text, answered
with the same rules as DRF's path but without its per-request machinery.

What it skips, because such a call does not need it: DRF's Request wrapper, its content
negotiation (only calls whose Accept header can only mean JSON come here), the session
authenticator (only calls with a token come here), and the input serializer, whose
construction deep-copies its declared fields on every call (BENCHMARKS.md, "History"). What it
keeps, through the very same objects: the token authenticator and its cache, the action's rule
(accounts.policies), the view's throttles (so the rate-limit headers and counts are DRF's),
the ML client, and the API's exception handler for the ML service's failures.

The decision is made before anything has a side effect: a call that is not a plain valid one
(no token, a bad or revoked one, a rule that refuses, a body that is not exactly `{"text": ...}`
or `{"text": ..., "explain": k}` with valid values, any other Accept, a query string) returns
None here and DRF answers it exactly as before, with its own error shapes. The one exception
is the throttle: a throttled call, counted here, is counted a second time by DRF, which answers
the 429; the caller's window is already over its limit, so the answer and its headers are the
same.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from accounts.authentication import OutageTolerantTokenAuthentication
from accounts.policies import Action, allows
from common.errors import api_exception_handler
from common.validators import SURROGATE
from gateway.serializers import EXPLAIN_MAX
from integrations.ml_service.client import get_ml_client
from integrations.ml_service.exceptions import MLServiceError

# Larger bodies go through DRF's parser, which checks a document's shape as it reads it.
MAX_BODY_BYTES = 64 * 1024
# Accept values under which DRF's negotiation can only choose JSON (the first renderer).
_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
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
    # A query string may pick DRF's renderer (?format=api) for the answer.
    if meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "").strip() not in _JSON_ACCEPTS:
        return False
    media_type, _, parameters = meta.get("CONTENT_TYPE", "").partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    if parameters.strip() and parameters.replace(" ", "").lower() != "charset=utf-8":
        return False
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return 0 < length <= min(MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def plain_payload(body: bytes) -> dict[str, Any] | None:
    """`{"text": ...}` (with `explain`, if sent) when the body is exactly a valid single-text
    call under PredictInputSerializer's rules; None for anything else, valid or not."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or "text" not in data or not data.keys() <= {"text", "explain"}:
        return None
    text = data["text"]
    if (
        type(text) is not str
        or len(text) > settings.TEXT_MAX_LENGTH
        or not text.strip()
        or "\x00" in text
        or SURROGATE.search(text)
    ):
        return None
    if "explain" in data:
        explain = data["explain"]
        if type(explain) is not int or not 1 <= explain <= EXPLAIN_MAX:
            return None
    return data
