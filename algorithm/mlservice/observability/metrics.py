"""Every Prometheus metric of the service, under the names the dashboards and alerts use.

prometheus-client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, prepared by `multiproc`
before this module is first imported): each process (gunicorn worker, Celery pool child) writes
its samples to files there, and an exporter merges the files at scrape time, so a scrape sees
every process, not just the one that answered.

All processes of the image import this module, and the library writes a zero sample for every
unlabelled metric at import; so each exporter exports only the families its role owns: the API's
/metrics the HTTP and model families, the worker's exporter the training and Celery ones. The
worker therefore never reports, say, `ml_model_accuracy 0` next to the API's real value.

Gauge modes: the model gauges are per API process and drop out when a process dies ("live"
modes); the training gauges are written by short-lived pool children and must outlive them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from textclf_ops import multiproc

# create_app and gunicorn's master prepare the directory first; this keeps any import order safe.
multiproc.ensure_configured_directory()

from prometheus_client import (  # noqa: E402
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from prometheus_client.registry import Collector  # noqa: E402
from textclf_ops.http_metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS  # noqa: E402

from mlservice.ml.drift import CONFIDENCE_BUCKETS, OOV_SHARE_BUCKETS  # noqa: E402

PREDICT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MODEL_LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TRAINING_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)

# --- API -------------------------------------------------------------------------------------

# HTTP_REQUESTS and HTTP_REQUEST_DURATION: textclf_ops.http_metrics, shared with web.
PREDICTIONS = Counter(
    "ml_predictions_total",
    "Texts classified, by predicted label and model version.",
    ["label", "model_version"],
)
PREDICT_DURATION = Histogram(
    "ml_predict_duration_seconds",
    "Model time per predict request (vectorize + classify), single text or batch.",
    ["kind"],
    buckets=PREDICT_BUCKETS,
)
MODEL_LOAD_DURATION = Histogram(
    "ml_model_load_duration_seconds",
    "Time to read, verify and unpickle a model version.",
    buckets=MODEL_LOAD_BUCKETS,
)
MODEL_LOAD_FAILURES = Counter(
    "ml_model_load_failures_total",
    "Model versions refused or unreadable at load, by reason.",
    ["reason"],
)
MODEL_INFO = Gauge(
    "ml_model_info",
    "1 for the model version an API process serves (0 for one it served before).",
    ["version"],
    multiprocess_mode="livemax",
)
MODEL_CREATED = Gauge(
    "ml_model_created_timestamp_seconds",
    "When the served model was published (Unix time).",
    multiprocess_mode="livemax",
)
MODEL_ACCURACY = Gauge(
    "ml_model_accuracy",
    "Held-out accuracy of the served model.",
    multiprocess_mode="livemostrecent",
)
MODEL_F1_MACRO = Gauge(
    "ml_model_f1_macro",
    "Held-out macro-averaged F1 of the served model.",
    multiprocess_mode="livemostrecent",
)
MODEL_MAX_AGE = Gauge(
    "ml_model_max_age_seconds",
    "MODEL_MAX_AGE_SECONDS: a served model older than this should be retrained.",
    multiprocess_mode="livemax",
)
PREDICT_P99_THRESHOLD = Gauge(
    "ml_predict_p99_threshold_seconds",
    "PREDICT_P99_THRESHOLD_SECONDS: the predict latency p99 the alert compares against.",
    multiprocess_mode="livemax",
)

# Drift (mlservice.observability.drift): per served version; labels come from the model's own
# label set and versions from the kept ones, so the series stay few.
DRIFT_OOV_SHARE = Histogram(
    "ml_drift_oov_share",
    "Per text classified, the share of its terms out of the model's vocabulary (1 = none known).",
    ["model_version"],
    buckets=OOV_SHARE_BUCKETS,
)
DRIFT_CONFIDENCE = Histogram(
    "ml_drift_confidence",
    "Per text classified, the probability of its most probable label.",
    ["model_version"],
    buckets=CONFIDENCE_BUCKETS,
)
TRAINING_LABEL_SHARE = Gauge(
    "ml_model_training_label_share",
    "Each label's share of the served version's training rows (estimated on its evaluation rows).",
    ["model_version", "label"],
    multiprocess_mode="livemax",
)

# --- worker ----------------------------------------------------------------------------------

TRAINING_RUNS = Counter(
    "ml_training_runs_total", "Training runs that ended, by outcome.", ["outcome"]
)
TRAINING_DURATION = Histogram(
    "ml_training_duration_seconds",
    "Wall time of a training run, from start to its recorded outcome.",
    buckets=TRAINING_BUCKETS,
)
TRAINING_ROWS = Gauge(
    "ml_training_rows", "Rows read by the latest training run.", multiprocess_mode="mostrecent"
)
TRAINING_LAST_SUCCESS = Gauge(
    "ml_training_last_success_timestamp_seconds",
    "When a training run last succeeded (Unix time).",
    multiprocess_mode="max",
)
CELERY_TASKS = Counter(
    "celery_tasks_total",
    "Celery task events seen by this worker, by task name and state.",
    ["task", "state"],
)

# Shadow scoring (api/shadow.py): the waiting candidate's answers on sampled live predictions.
SHADOW_PREDICTIONS = Counter(
    "ml_shadow_predictions_total",
    "Sampled live texts also scored by the waiting candidate, by production's label and whether "
    "the candidate agreed.",
    ["candidate_version", "production_version", "label", "agreed"],
)
SHADOW_DROPPED = Counter(
    "ml_shadow_dropped_total",
    "Sampled batches not shadow scored because the shadow queue was full.",
)

API_METRICS: tuple[MetricWrapperBase, ...] = (
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    PREDICTIONS,
    PREDICT_DURATION,
    MODEL_LOAD_DURATION,
    MODEL_LOAD_FAILURES,
    MODEL_INFO,
    MODEL_CREATED,
    MODEL_ACCURACY,
    MODEL_F1_MACRO,
    MODEL_MAX_AGE,
    PREDICT_P99_THRESHOLD,
    DRIFT_OOV_SHARE,
    DRIFT_CONFIDENCE,
    TRAINING_LABEL_SHARE,
    SHADOW_PREDICTIONS,
    SHADOW_DROPPED,
)
WORKER_METRICS: tuple[MetricWrapperBase, ...] = (
    TRAINING_RUNS,
    TRAINING_DURATION,
    TRAINING_ROWS,
    TRAINING_LAST_SUCCESS,
    CELERY_TASKS,
)


class _OwnFamilies:
    """The multiprocess samples of the given metrics only."""

    def __init__(self, directory: str, metrics: Iterable[MetricWrapperBase]) -> None:
        self._collector = MultiProcessCollector(None, path=directory)
        self._names = {family.name for metric in metrics for family in metric.describe()}

    def collect(self) -> Iterator:
        return (family for family in self._collector.collect() if family.name in self._names)


def registry(
    directory: str, metrics: Iterable[MetricWrapperBase], extra: Iterable[Collector] = ()
) -> CollectorRegistry:
    """A registry that merges every process's samples of `metrics`, plus `extra` collectors."""
    merged = CollectorRegistry()
    merged.register(_OwnFamilies(directory, metrics))
    for collector in extra:
        merged.register(collector)
    return merged


def exposition(directory: str, metrics: Iterable[MetricWrapperBase]) -> bytes:
    """The text exposition format of `metrics`, merged over every process."""
    return generate_latest(registry(directory, metrics))
