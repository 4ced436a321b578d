"""Every setting of the service, read from the environment in this one place.

Defaults work inside the docker compose stack. Each setting is a typed field (pydantic-settings,
through textclf_ops.settings): the variable is its name in upper case, a bad value fails at
start-up with a message naming the variable, and a secret (`SecretStr`: hidden from repr and
logs) may also come from a file named by `<NAME>_FILE` (docker/compose secrets), never from both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from textclf_ops.secrets import SettingError, weak_secret
from textclf_ops.settings import LogSettings

from mlservice.ml import CLASSIFIER_NAMES

# A bad setting: the message names the variable.
ConfigError = SettingError


class Settings(LogSettings):
    # LOG_LEVEL, LOG_FORMAT and LOG_FLUSH_SECONDS (the API's lines are written in batches, at
    # most that late) come from LogSettings, as gunicorn's master reads them.
    database_url: SecretStr = SecretStr("postgres://textclf:textclf@db:5432/textclf")
    # libpq's connect_timeout is whole seconds; it bounds how long a request waits for a dead
    # database before answering 503.
    database_connect_timeout: int = Field(default=3, ge=1)
    # A secret: in production its URL carries Redis's password (CELERY_BROKER_URL_FILE in Swarm).
    celery_broker_url: SecretStr = SecretStr("redis://redis:6379/0")
    # Bounds connecting to and publishing on the broker when POST /train enqueues, so a dead
    # Redis costs the request a few seconds and a 503, never a hang.
    broker_connect_timeout: float = Field(default=2.0, gt=0)
    # web's cache (its CACHE_URL): the throttle counters of predictions nginx sends straight
    # from the public route are web's own. A secret: in production its URL carries Redis's
    # password (CACHE_URL_FILE in Swarm).
    cache_url: SecretStr = SecretStr("redis://redis:6379/1")
    models_dir: Path = Path("/models")
    model_keep_versions: int = Field(default=5, ge=1)
    classifier: str = "linear_svc"
    train_min_samples: int = Field(default=20, ge=1)
    train_batch_size: int = Field(default=5000, ge=1)
    # Threads that fit calibration folds in parallel; match the worker's CPU allowance.
    train_n_jobs: int = Field(default=2, ge=1)
    text_max_length: int = Field(default=100_000, ge=1)
    predict_batch_max: int = Field(default=1000, ge=1)
    # Matches nginx's client_max_body_size: bigger bodies get 413 before being read.
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    worker_heartbeat_file: Path = Path("/tmp/worker_heartbeat")  # noqa: S108 - liveness only
    # Shared secret every caller but health checks and Prometheus sends as X-Service-Token.
    ml_service_token: SecretStr = SecretStr("dev-ml-service-token")
    # The least-privilege role `init-db` maintains (run with the owner's DATABASE_URL); the API
    # and the worker then log in as it.
    ml_database_user: str = Field(default="textclf_ml", min_length=1)
    ml_database_password: SecretStr = SecretStr("textclf_ml")
    # Error reporting is off unless a DSN is set.
    sentry_dsn: SecretStr = SecretStr("")
    sentry_environment: str = "development"
    # Default: textclf@<IMAGE_TAG>, or textclf@dev (see from_env).
    sentry_release: str = "textclf@dev"
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # prometheus-client's multiprocess directory (the library reads the variable itself; the
    # service creates, wipes and reads it). Must be a tmpfs or otherwise private to the container.
    prometheus_multiproc_dir: Path = Path("/tmp/prometheus")  # noqa: S108 - a tmpfs in compose
    # The worker's main process serves /metrics here; 0 disables the exporter.
    worker_metrics_port: int = Field(default=9808, ge=0, le=65535)
    # Exported as gauges so alert rules compare against the service's own settings.
    model_max_age_seconds: int = Field(default=7 * 24 * 3600, ge=1)
    predict_p99_threshold_seconds: float = Field(default=0.25, gt=0)
    # HMAC-SHA256 key signing each model's metadata (which holds both pickles' sha256): the API
    # refuses to unpickle anything not signed with it. Only the API and the worker hold it.
    model_signing_key: SecretStr = SecretStr("dev-model-signing-key")
    # A running job whose heartbeat (renewed every few seconds) is older than this is stale:
    # its worker is gone, and the job is failed so that it stops blocking new ones.
    train_lease_seconds: int = Field(default=60, ge=3)
    # Deliveries of one job (redeliveries after a lost worker) before it is given up.
    train_max_attempts: int = Field(default=2, ge=1)
    # How long POST /models/<version>/activate waits for the worker to switch `current`.
    activate_timeout_seconds: float = Field(default=10.0, gt=0)
    # Each API process follows the model versions in Postgres into MODELS_DIR: on every
    # notification and at least this often (seconds); 0 turns the follower off.
    model_sync_seconds: float = Field(default=2.0, ge=0)
    # Training caps, checked before anything is published. The vocabulary a TF-IDF keeps (terms
    # by frequency); the Debian corpus has about 80k terms, so the default leaves it whole.
    train_max_features: int = Field(default=200_000, ge=1)
    # Distinct labels in `data`, counted while the rows are read (the corpus has 58); a
    # classifier needs two.
    train_max_labels: int = Field(default=500, ge=2)
    # A model version's files on disk (pickles + metadata). The worker refuses to publish more,
    # before fitting when labels x features alone would exceed it; the API refuses to read more.
    # An API process holds about twice the model (classifier + the fast path's weights).
    model_max_bytes: int = Field(default=128 * 1024 * 1024, ge=1)
    # Seconds a training may spend evaluating feature recipes (ml/recipes.py). The cheapest
    # always runs; a costlier one is skipped when its estimated fit would end after this, so a
    # large table falls back to the cheapest recipe (the job's metrics say so).
    train_recipe_budget_seconds: float = Field(default=120.0, ge=0)
    # Above this many rows, the model evaluated on the training split (three quarters of the
    # rows) is kept instead of being refitted on every row: the refit was the larger part of
    # a million-row training's time and peak memory (BENCHMARKS.md). 0: always refit.
    train_refit_max_rows: int = Field(default=250_000, ge=0)
    # A text with no term the model knows gets "unknown": true; with this set, also no label.
    predict_refuse_unknown: bool = False
    # Train only on rows marked verified (web's `data.verified`): feedback rows start
    # unverified, so clients' labels feed a model only once staff have reviewed them.
    train_verified_only: bool = False
    # The promotion gate (ml/promotion.py): a candidate replaces production when its macro-F1
    # on the shared evaluation rows is at least production's minus this tolerance ...
    train_promote_f1_tolerance: float = Field(default=0.02, ge=0, le=1)
    # ... and no label's recall falls by more than this (labels with 5+ evaluation rows).
    train_promote_max_recall_drop: float = Field(default=0.10, ge=0, le=1)
    # With no production model to compare with, a candidate needs this macro-F1 (the demo's
    # first model scores about 0.59).
    train_promote_min_f1: float = Field(default=0.3, ge=0, le=1)
    # Shadow scoring: the share of live predictions (0-1) also scored, off the answer's path,
    # by the candidate waiting for promotion; 0 turns it off.
    shadow_share: float = Field(default=0.1, ge=0, le=1)
    # "production" (the prod overlay) refuses the development defaults of the secrets above and
    # any key, token or password shorter than 32 characters, naming each.
    environment: Literal["development", "production"] = "development"

    @field_validator("classifier")
    @classmethod
    def _known_classifier(cls, value: str) -> str:
        if value not in CLASSIFIER_NAMES:
            raise ValueError(f"must be one of {', '.join(CLASSIFIER_NAMES)}")
        return value

    @field_validator("environment", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("ml_service_token", "ml_database_password", "model_signing_key")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Self:
        if self.environment == "production":
            self._refuse_weak_secrets()
        return self

    def _refuse_weak_secrets(self) -> None:
        # ML_DATABASE_PASSWORD is not checked here: only algorithm_migrate uses it, and the
        # API and the worker log in with it through DATABASE_URL, which is.
        problems = [
            weak_secret("ML_SERVICE_TOKEN", self.ml_service_token.get_secret_value()),
            weak_secret("MODEL_SIGNING_KEY", self.model_signing_key.get_secret_value()),
            weak_secret(
                "DATABASE_URL's password", urlsplit(self.database_url.get_secret_value()).password
            ),
            weak_secret(
                "CELERY_BROKER_URL's password",
                urlsplit(self.celery_broker_url.get_secret_value()).password,
            ),
            weak_secret(
                "CACHE_URL's password", urlsplit(self.cache_url.get_secret_value()).password
            ),
        ]
        if found := [problem for problem in problems if problem]:
            raise ValueError(" ".join(found))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Settings from `environ` (default: os.environ); unset variables keep their defaults."""
        env = os.environ if environ is None else environ
        if not env.get("SENTRY_RELEASE", "").strip():
            env = {**env, "SENTRY_RELEASE": f"textclf@{env.get('IMAGE_TAG', '').strip() or 'dev'}"}
        return super().from_env(env)
