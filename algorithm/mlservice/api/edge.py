"""POST /edge/predict: the public POST /api/predict/, which nginx sends here straight from the
edge once web's token check (cached per token for at most TOKEN_CACHE_SECONDS) has let it
through, so that a prediction costs web nothing but that check now and then.

This door answers only what it can answer exactly as web would: a plain single-text call
(textclf_ops.predict_call, the test web's own short path applies) within the caller's budget,
counted in web's own counter (textclf_ops.throttle; the key and rate come from web's check,
X-Edge-Budget). Its answer is the one web relays from /predict, with web's rate-limit headers.
Everything else it hands back unanswered (421, before any work): nginx then sends the very same
request to web's PredictApi, which answers it with its own rules, messages and 429s. A call
over its budget has been counted here and is counted again by web; its window is already over
the limit, so web's answer and headers are the same.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from textclf_ops.predict_call import is_plain_request, plain_payload
from textclf_ops.throttle import EDGE_BUDGET_HEADER, UNTHROTTLED, Budget, CacheCircuit

from mlservice.api.errors import ApiError, error_response
from mlservice.api.prediction import answer

bp = Blueprint("edge", __name__)

# nginx answers this status by sending the request to web (nginx/templates/servers/app.conf).
HAND_OVER = 421
# Every method: web answers the others (405 with its own message).
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# What DRF's view adds to every answer of POST /api/predict/.
_DRF_HEADERS = {"Allow": "POST, OPTIONS", "Vary": "Accept"}

cache_circuit = CacheCircuit()


@bp.route("/edge/predict", methods=_METHODS, provide_automatic_options=False)
def predict():
    budget_header = request.headers.get(EDGE_BUDGET_HEADER, "")
    budget = Budget.parse(budget_header)
    # No budget and not unthrottled: nginx did not check the token.
    if request.method != "POST" or (budget is None and budget_header != UNTHROTTLED):
        return hand_over()
    settings = current_app.config["SETTINGS"]
    if not is_plain_request(
        query_string=request.query_string.decode("latin-1"),
        accept=request.headers.get("Accept", ""),
        content_type=request.headers.get("Content-Type", ""),
        content_length=request.headers.get("Content-Length", ""),
        max_bytes=settings.max_request_bytes,
    ):
        return hand_over()
    payload = plain_payload(request.get_data(cache=False), text_max_length=settings.text_max_length)
    if payload is None:
        return hand_over()
    headers = dict(_DRF_HEADERS)
    counter = current_app.extensions["throttle_counter"]
    if budget is not None and (counted := cache_circuit.hit(counter, budget.key, budget.window)):
        count, seconds_left = counted
        if count > budget.limit:
            return hand_over()
        headers.update(budget.standing(count, seconds_left).headers())
    try:
        return answer([payload["text"]], single=True, explain=payload.get("explain")), headers
    except ApiError as exc:  # no model yet, or one that cannot explain: as web relays it
        body, status = error_response(exc.status, exc.detail, **exc.extra)
        return body, status, headers


def hand_over():
    return error_response(HAND_OVER, "Answered by web.")
