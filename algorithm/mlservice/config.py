"""Every setting of the service, read from the environment in this one place.

Defaults work inside the docker compose stack. A bad value fails at start-up with a message naming
the variable, instead of surfacing later as a confusing runtime error. Secrets may also come from
a file named by `<NAME>_FILE` (docker/compose secrets), which wins over `<NAME>`; they are left out
of the settings' repr so that logging the settings never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from mlservice.ml import CLASSIFIER_NAMES
from mlservice.secrets_check import weak_secret

T = TypeVar("T")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
LOG_FORMATS = ("json", "console")
ENVIRONMENTS = ("development", "production")


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot run with."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = field(default="postgres://textclf:textclf@db:5432/textclf", repr=False)
    # libpq's connect_timeout is whole seconds; it bounds how long a request waits for a dead
    # database before answering 503.
    database_connect_timeout: int = 3
    celery_broker_url: str = "redis://redis:6379/0"
    # Bounds connecting to and publishing on the broker when POST /train enqueues, so a dead
    # Redis costs the request a few seconds and a 503, never a hang.
    broker_connect_timeout: float = 2.0
    models_dir: Path = Path("/models")
    model_keep_versions: int = 5
    classifier: str = "linear_svc"
    train_min_samples: int = 20
    train_batch_size: int = 5000
    # Threads that fit calibration folds in parallel; match the worker's CPU allowance.
    train_n_jobs: int = 2
    text_max_length: int = 100_000
    predict_batch_max: int = 1000
    # Matches nginx's client_max_body_size: bigger bodies get 413 before being read.
    max_request_bytes: int = 16 * 1024 * 1024
    worker_heartbeat_file: Path = Path("/tmp/worker_heartbeat")  # noqa: S108 - liveness only
    log_level: str = "INFO"
    # Shared secret every caller but health checks and Prometheus sends as X-Service-Token.
    ml_service_token: str = field(default="dev-ml-service-token", repr=False)
    # The least-privilege role `init-db` maintains (run with the owner's DATABASE_URL); the API
    # and the worker then log in as it.
    ml_database_user: str = "textclf_ml"
    ml_database_password: str = field(default="textclf_ml", repr=False)
    # "json": one JSON object per line (production); "console": readable lines for local runs.
    log_format: str = "json"
    # The API's log lines are written in batches, at most this late; warnings and errors at once.
    log_flush_seconds: float = 1.0
    # Error reporting is off unless a DSN is set.
    sentry_dsn: str = field(default="", repr=False)
    sentry_environment: str = "development"
    sentry_release: str = "textclf@dev"
    sentry_traces_sample_rate: float = 0.0
    # prometheus-client's multiprocess directory (the library reads the variable itself; the
    # service creates, wipes and reads it). Must be a tmpfs or otherwise private to the container.
    prometheus_multiproc_dir: Path = Path("/tmp/prometheus")  # noqa: S108 - a tmpfs in compose
    # The worker's main process serves /metrics here; 0 disables the exporter.
    worker_metrics_port: int = 9808
    # Exported as gauges so alert rules compare against the service's own settings.
    model_max_age_seconds: int = 7 * 24 * 3600
    predict_p99_threshold_seconds: float = 0.25
    # HMAC-SHA256 key signing each model's metadata (which holds both pickles' sha256): the API
    # refuses to unpickle anything not signed with it. Only the API and the worker hold it.
    model_signing_key: str = field(default="dev-model-signing-key", repr=False)
    # A running job whose heartbeat (renewed every few seconds) is older than this is stale:
    # its worker is gone, and the job is failed so that it stops blocking new ones.
    train_lease_seconds: int = 60
    # Deliveries of one job (redeliveries after a lost worker) before it is given up.
    train_max_attempts: int = 2
    # How long POST /models/<version>/activate waits for the worker to switch `current`.
    activate_timeout_seconds: float = 10.0
    # Training caps, checked before anything is published. The vocabulary a TF-IDF keeps (terms
    # by frequency); the Debian corpus has about 80k terms, so the default leaves it whole.
    train_max_features: int = 200_000
    # Distinct labels in `data`, counted while the rows are read (the corpus has 58).
    train_max_labels: int = 500
    # A model version's files on disk (pickles + metadata). The worker refuses to publish more,
    # before fitting when labels x features alone would exceed it; the API refuses to read more.
    # An API process holds about twice the model (classifier + the fast path's weights).
    model_max_bytes: int = 128 * 1024 * 1024
    # Seconds a training may spend evaluating feature recipes (ml/recipes.py). The cheapest
    # always runs; a costlier one is skipped when its estimated fit would end after this, so a
    # large table falls back to the cheapest recipe (the job's metrics say so).
    train_recipe_budget_seconds: float = 120.0
    # A text with no term the model knows gets "unknown": true; with this set, also no label.
    predict_refuse_unknown: bool = False
    # Train only on rows marked verified (web's `data.verified`): feedback rows start
    # unverified, so clients' labels feed a model only once staff have reviewed them.
    train_verified_only: bool = False
    # "production" (the prod overlay) refuses the development defaults of the secrets above and
    # any key, token or password shorter than 32 characters, naming each.
    environment: str = "development"

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIER_NAMES:
            raise ConfigError(
                f"CLASSIFIER must be one of {', '.join(CLASSIFIER_NAMES)}; got {self.classifier!r}."
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}.")
        if not 0.0 <= self.sentry_traces_sample_rate <= 1.0:
            raise ConfigError("SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1.")
        if not 0 <= self.worker_metrics_port <= 65535:
            raise ConfigError("WORKER_METRICS_PORT must be a port number (0 disables it).")
        if self.model_max_age_seconds < 1 or self.predict_p99_threshold_seconds <= 0:
            raise ConfigError(
                "MODEL_MAX_AGE_SECONDS and PREDICT_P99_THRESHOLD_SECONDS must be positive."
            )
        for name in (
            "database_connect_timeout",
            "model_keep_versions",
            "train_min_samples",
            "train_batch_size",
            "train_n_jobs",
            "text_max_length",
            "predict_batch_max",
            "max_request_bytes",
            "train_max_features",
            "model_max_bytes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be at least 1.")
        if self.train_max_labels < 2:
            raise ConfigError("TRAIN_MAX_LABELS must be at least 2 (a classifier needs two).")
        if self.broker_connect_timeout <= 0:
            raise ConfigError("BROKER_CONNECT_TIMEOUT must be positive.")
        if self.train_lease_seconds < 3 or self.train_max_attempts < 1:
            raise ConfigError(
                "TRAIN_LEASE_SECONDS must be at least 3 and TRAIN_MAX_ATTEMPTS at least 1."
            )
        if self.activate_timeout_seconds <= 0:
            raise ConfigError("ACTIVATE_TIMEOUT_SECONDS must be positive.")
        if self.train_recipe_budget_seconds < 0:
            raise ConfigError("TRAIN_RECIPE_BUDGET_SECONDS must not be negative.")
        if self.log_flush_seconds <= 0:
            raise ConfigError("LOG_FLUSH_SECONDS must be positive.")
        for name in (
            "ml_service_token",
            "ml_database_user",
            "ml_database_password",
            "model_signing_key",
        ):
            if not getattr(self, name):
                raise ConfigError(f"{name.upper()} must not be empty.")
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}.")
        if self.environment == "production":
            self._refuse_weak_secrets()

    def _refuse_weak_secrets(self) -> None:
        # ML_DATABASE_PASSWORD is not checked here: only algorithm_migrate uses it, and the
        # API and the worker log in with it through DATABASE_URL, which is.
        problems = [
            weak_secret("ML_SERVICE_TOKEN", self.ml_service_token),
            weak_secret("MODEL_SIGNING_KEY", self.model_signing_key),
            weak_secret("DATABASE_URL's password", urlsplit(self.database_url).password),
            weak_secret("CELERY_BROKER_URL's password", urlsplit(self.celery_broker_url).password),
        ]
        if found := [problem for problem in problems if problem]:
            raise ConfigError(" ".join(found))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: os.environ); unset variables keep their defaults.

        Each field reads the variable of its name in upper case, parsed with the type of its
        default; the fields hidden from repr are secrets, which may also come from NAME_FILE.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        values = {}
        for setting in fields(cls):
            name, default = setting.name.upper(), getattr(defaults, setting.name)
            if setting.name == "sentry_release":
                default = f"textclf@{env.get('IMAGE_TAG', '').strip() or 'dev'}"
            if not setting.repr:
                values[setting.name] = _read_secret(env, name, default)
            else:
                parse = _PARSERS.get(setting.name, type(default))
                values[setting.name] = _read(env, name, parse, default)
        return cls(**values)


# Parsers other than the default's own type.
def _parse_bool(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_PARSERS: dict[str, Callable[[str], object]] = {
    "log_level": str.upper,
    "log_format": str.lower,
    "environment": str.lower,
    "predict_refuse_unknown": _parse_bool,
    "train_verified_only": _parse_bool,
}


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} has an invalid value: {raw!r}.") from None


def _read_secret(env: Mapping[str, str], name: str, default: str) -> str:
    """`<name>_FILE`'s content (trailing newline dropped) if set, else `<name>`, else default."""
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return _read(env, name, str, default)
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{name}_FILE cannot be read: {exc}.") from None
    if not value:
        raise ConfigError(f"{name}_FILE names an empty file: {path}.")
    return value
