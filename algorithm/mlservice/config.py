"""Every setting of the service, read from the environment in this one place.

Defaults work inside the docker compose stack. A bad value fails at start-up with a message naming
the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mlservice.ml import CLASSIFIER_NAMES

T = TypeVar("T")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot run with."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = "postgres://textclf:textclf@db:5432/textclf"
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

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIER_NAMES:
            raise ConfigError(
                f"CLASSIFIER must be one of {', '.join(CLASSIFIER_NAMES)}; got {self.classifier!r}."
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
        for name in (
            "database_connect_timeout",
            "model_keep_versions",
            "train_min_samples",
            "train_batch_size",
            "train_n_jobs",
            "text_max_length",
            "predict_batch_max",
            "max_request_bytes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be at least 1.")
        if self.broker_connect_timeout <= 0:
            raise ConfigError("BROKER_CONNECT_TIMEOUT must be positive.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: os.environ); unset variables keep their defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()
        values = {
            "database_url": _read(env, "DATABASE_URL", str, defaults.database_url),
            "database_connect_timeout": _read(
                env, "DATABASE_CONNECT_TIMEOUT", int, defaults.database_connect_timeout
            ),
            "celery_broker_url": _read(env, "CELERY_BROKER_URL", str, defaults.celery_broker_url),
            "broker_connect_timeout": _read(
                env, "BROKER_CONNECT_TIMEOUT", float, defaults.broker_connect_timeout
            ),
            "models_dir": _read(env, "MODELS_DIR", Path, defaults.models_dir),
            "model_keep_versions": _read(
                env, "MODEL_KEEP_VERSIONS", int, defaults.model_keep_versions
            ),
            "classifier": _read(env, "CLASSIFIER", str, defaults.classifier),
            "train_min_samples": _read(env, "TRAIN_MIN_SAMPLES", int, defaults.train_min_samples),
            "train_batch_size": _read(env, "TRAIN_BATCH_SIZE", int, defaults.train_batch_size),
            "train_n_jobs": _read(env, "TRAIN_N_JOBS", int, defaults.train_n_jobs),
            "text_max_length": _read(env, "TEXT_MAX_LENGTH", int, defaults.text_max_length),
            "predict_batch_max": _read(env, "PREDICT_BATCH_MAX", int, defaults.predict_batch_max),
            "max_request_bytes": _read(env, "MAX_REQUEST_BYTES", int, defaults.max_request_bytes),
            "worker_heartbeat_file": _read(
                env, "WORKER_HEARTBEAT_FILE", Path, defaults.worker_heartbeat_file
            ),
            "log_level": _read(env, "LOG_LEVEL", str.upper, defaults.log_level),
        }
        return cls(**values)


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} has an invalid value: {raw!r}.") from None
