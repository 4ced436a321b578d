"""Row group 2: one text per call, in process: scikit-learn's pipeline vs the service's path.

Both use the linear_svc model fitted in process on the whole real corpus (the same recipe and
rows as the served model), through `bench.in_process`: `predict_proba` is the API's own path,
`sklearn_predict_proba` scikit-learn's Pipeline call. Each call is timed on its own; the rows
report the median over many different texts, after a warm-up, and the largest probability
difference between the two. The last row is what `explain` costs: the API's call
(`predictor.analyse`, which also counts the known terms) with and without an explanation of the
5 strongest terms, on the same texts. The shadow row is what a waiting candidate costs the ML
API's process at the default SHADOW_SHARE: CPU per single-text prediction, the request's
sampling and hand-off plus the shadow thread's scoring (`bench.in_process`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from bench import in_process
from bench.context import Context
from bench.report import Row, milliseconds, rows_count

SECTION = "2 predict in process"
MAX_SERVICE_SECONDS = 0.25e-3
MAX_DIFFERENCE = 1e-9
# The budget for explanations: single-text p50 within 20% of the plain prediction.
MAX_EXPLAIN_RATIO = 1.2
EXPLAIN_TERMS = 5
# The API's default share of live predictions a waiting candidate also scores.
SHADOW_SHARE = 0.1
_WARM_UP = 20


def run(ctx: Context) -> list[Row]:
    size = ctx.config.serving_size
    model = ctx.in_process_models.get(size)
    if model is None:  # the training rows were not run
        model, _ = in_process.train(ctx.rows(size), classifier="linear_svc")
    texts = ctx.query_texts(ctx.config.in_process_texts)
    sklearn_seconds, sklearn_proba = _time_per_text(model.sklearn_predict_proba, texts)
    service_seconds, service_proba = _time_per_text(model.predict_proba, texts)
    difference = float(np.max(np.abs(sklearn_proba - service_proba)))
    analyse = model.predictor.analyse
    plain_seconds, _ = _time_per_text(lambda one: analyse(one).probabilities, texts)
    explain_seconds, _ = _time_per_text(
        lambda one: analyse(one, explain=EXPLAIN_TERMS).probabilities, texts
    )
    explain_ratio = explain_seconds / plain_seconds
    shadow_off, shadow_on = in_process.shadow_cpu_per_prediction(
        model, texts, share=SHADOW_SHARE, database_url=ctx.stack.database_url
    )
    what = f"median of {rows_count(len(texts))} texts, model of {rows_count(size)} rows"
    return [
        Row(
            SECTION,
            f"scikit-learn Pipeline.predict_proba, one text per call ({what})",
            milliseconds(sklearn_seconds),
        ),
        Row(
            SECTION,
            f"service predict path ({type(model.predictor).__name__}), one text per call ({what})",
            f"{milliseconds(service_seconds)} ({sklearn_seconds / service_seconds:.1f}x faster)",
            f"≤ {milliseconds(MAX_SERVICE_SECONDS)}",
            service_seconds <= MAX_SERVICE_SECONDS,
        ),
        Row(
            SECTION,
            "service path vs scikit-learn predict_proba: largest difference",
            f"{difference:.1e}",
            f"≤ {MAX_DIFFERENCE:.0e}",
            difference <= MAX_DIFFERENCE,
        ),
        Row(
            SECTION,
            f"service predict path with explain={EXPLAIN_TERMS}, one text per call ({what})",
            f"{milliseconds(explain_seconds)} ({explain_ratio:.2f}x the "
            f"{milliseconds(plain_seconds)} without)",
            f"≤ {MAX_EXPLAIN_RATIO:.1f}x",
            explain_ratio <= MAX_EXPLAIN_RATIO,
        ),
        Row(
            SECTION,
            f"service predict path with shadow scoring of a waiting candidate at SHADOW_SHARE="
            f"{SHADOW_SHARE:g}: the process's CPU per single-text prediction, the shadow "
            f"thread's included (mean over {rows_count(len(texts))} texts, model of "
            f"{rows_count(size)} rows)",
            f"{milliseconds(shadow_on)} ({shadow_on / shadow_off:.2f}x the "
            f"{milliseconds(shadow_off)} without)",
        ),
    ]


def _time_per_text(
    predict_proba: Callable[[list[str]], np.ndarray], texts: list[str]
) -> tuple[float, np.ndarray]:
    """(median seconds per call, the stacked probabilities)."""
    for text in texts[:_WARM_UP]:
        predict_proba([text])
    durations = []
    rows = []
    for text in texts:
        started = time.perf_counter()
        proba = predict_proba([text])
        durations.append(time.perf_counter() - started)
        rows.append(proba[0])
    return statistics.median(durations), np.vstack(rows)
