from __future__ import annotations

import time
from collections import Counter
from typing import Any

from flask import Blueprint, current_app
from textclf_ops.predict_call import EXPLAIN_MAX

from mlservice.api.errors import ApiError
from mlservice.api.validation import json_object, text_error
from mlservice.ml.predictors import ExplanationUnavailable, prediction_rows
from mlservice.observability import drift, metrics

bp = Blueprint("prediction", __name__)

NO_MODEL_DETAIL = "No trained model is available yet; train one first with POST /api/train/."


@bp.post("/predict")
def predict():
    body = json_object(allowed={"text", "texts", "explain"})
    settings = current_app.config["SETTINGS"]
    texts = _validated_texts(body, settings.text_max_length, settings.predict_batch_max)
    return answer(texts, single="text" in body, explain=_validated_explain(body))


def answer(texts: list[str], *, single: bool, explain: int | None) -> dict[str, Any]:
    """The prediction of valid `texts` by the current model, as the API answers it."""
    settings = current_app.config["SETTINGS"]
    model = current_app.extensions["model_store"].current()
    if model is None:
        raise ApiError(409, NO_MODEL_DETAIL)
    started = time.perf_counter()
    try:
        analysis = model.predictor.analyse(texts, explain=explain)
    except ExplanationUnavailable as exc:
        raise ApiError(409, str(exc)) from None
    metrics.PREDICT_DURATION.labels(kind="single" if single else "batch").observe(
        time.perf_counter() - started
    )
    predictions = prediction_rows(
        model.predictor.labels, analysis, refuse_unknown=settings.predict_refuse_unknown
    )
    # One counter update per distinct label, not per text: a 1,000-text batch stays cheap.
    # Texts refused as unknown have no label to count.
    for label, count in Counter(p["label"] for p in predictions).items():
        if label is not None:
            metrics.PREDICTIONS.labels(label=label, model_version=model.version).inc(count)
    drift.observe(model.version, analysis)
    # A sample goes to the waiting candidate, if any, in the background.
    current_app.extensions["shadow"].submit(texts, [p["label"] for p in predictions], model.version)
    if single:
        return {**predictions[0], "model_version": model.version}
    return {"predictions": predictions, "model_version": model.version}


def _validated_explain(body: dict[str, Any]) -> int | None:
    """How many terms to explain each prediction with, or None (not asked)."""
    if "explain" not in body:
        return None
    value = body["explain"]
    # bool is an int in Python; JSON true is not a count.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= EXPLAIN_MAX:
        problem = f"Must be an integer from 1 to {EXPLAIN_MAX}."
        raise ApiError(400, f"explain: {problem}", errors={"explain": [problem]})
    return value


def _validated_texts(body: dict[str, Any], max_length: int, batch_max: int) -> list[str]:
    if ("text" in body) == ("texts" in body):
        raise ApiError(
            400,
            'Send exactly one of "text" (a string) or "texts" (a list of strings).',
            errors={"non_field_errors": ['Exactly one of "text" or "texts" is required.']},
        )
    if "text" in body:
        problem = text_error(body["text"], max_length=max_length)
        if problem:
            raise ApiError(400, f"text: {problem}", errors={"text": [problem]})
        return [body["text"]]

    texts = body["texts"]
    if not isinstance(texts, list):
        problem = "Must be a list of strings."
        raise ApiError(400, f"texts: {problem}", errors={"texts": [problem]})
    if not 1 <= len(texts) <= batch_max:
        problem = f"Must hold from 1 to {batch_max} texts (got {len(texts)})."
        raise ApiError(400, f"texts: {problem}", errors={"texts": [problem]})
    problems = {}
    for index, text in enumerate(texts):
        problem = text_error(text, max_length=max_length)
        if problem:
            problems[str(index)] = [problem]
    if problems:
        first = next(iter(problems))
        raise ApiError(
            400,
            f"texts[{first}]: {problems[first][0]}"
            + (f" ({len(problems)} invalid texts)" if len(problems) > 1 else ""),
            errors={"texts": problems},
        )
    return texts
