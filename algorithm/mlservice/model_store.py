"""The current model of this process, kept in memory and swapped when `current` moves.

Each gunicorn worker owns one ModelStore. A request costs one readlink while the version is
unchanged; a new version is loaded once (under a lock, so concurrent requests don't unpickle it
twice) and then served to every request, with no restart. A version that fails verification is
logged, counted and remembered (health shows why); the previously loaded model keeps serving. A
process that has loaded nothing yet (just started, or recycled by max_requests) serves the newest
kept version that verifies instead, so a fresh worker never answers "no model" while a good one
is on the volume.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from mlservice import artifacts, metrics
from mlservice.ml.predictors import Predictor, make_predictor

log = structlog.get_logger(__name__)

# A version pruned between readlink and read is retried against the newer `current`.
_LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class LoadedModel:
    version: str
    metadata: dict[str, Any]
    predictor: Predictor


class ModelStore:
    def __init__(self, models_dir: Path, *, signing_key: str) -> None:
        self.models_dir = models_dir
        self._signing_key = signing_key
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        # The version `current` last pointed at that could not be served, and why.
        self._rejected: tuple[str, str] | None = None

    def current(self) -> LoadedModel | None:
        """The model `current` points at (or the last good one); None if there is none."""
        version = artifacts.current_version(self.models_dir)
        if version is None:
            return None
        loaded = self._loaded
        if loaded is not None and loaded.version == version:
            return loaded
        with self._lock:
            return self._load_locked()

    def error(self) -> str | None:
        """Why the version `current` points at is not being served, or None if it is."""
        rejected = self._rejected
        if rejected is None or rejected[0] != artifacts.current_version(self.models_dir):
            return None
        return rejected[1]

    def _load_locked(self) -> LoadedModel | None:
        for _ in range(_LOAD_ATTEMPTS):
            version = artifacts.current_version(self.models_dir)
            if version is None:
                return None
            if self._loaded is not None and self._loaded.version == version:
                return self._loaded  # another thread loaded it while we waited for the lock
            if self._rejected is not None and version == self._rejected[0]:
                return self._loaded
            started = time.perf_counter()
            try:
                found = artifacts.load(self.models_dir, version, signing_key=self._signing_key)
            except artifacts.VersionVanished:
                continue
            except artifacts.ArtifactError as exc:
                metrics.MODEL_LOAD_FAILURES.labels(reason=exc.reason).inc()
                log.error(
                    "Refused model version; keeping the previous model",
                    model_version=version,
                    reason=exc.reason,
                    error=str(exc),
                    serving=self._loaded.version if self._loaded else None,
                )
                self._rejected = (version, str(exc))
                if self._loaded is None:
                    self._loaded = self._load_newest_good(refused=version)
                return self._loaded
            metrics.MODEL_LOAD_DURATION.observe(time.perf_counter() - started)
            previous = self._loaded
            self._loaded = LoadedModel(
                version=found.version,
                metadata=found.metadata,
                predictor=make_predictor(found.vectorizer, found.model),
            )
            _export_model_gauges(self._loaded, previous)
            log.info("Loaded model version", model_version=found.version)
            return self._loaded
        return self._loaded

    def _load_newest_good(self, *, refused: str) -> LoadedModel | None:
        """The newest kept version other than `refused` that verifies, loaded; or None."""
        for metadata in artifacts.list_versions(self.models_dir):
            version = metadata.get("version")
            if not isinstance(version, str) or version == refused:
                continue
            try:
                found = artifacts.load(self.models_dir, version, signing_key=self._signing_key)
            except artifacts.ArtifactError as exc:
                metrics.MODEL_LOAD_FAILURES.labels(reason=exc.reason).inc()
                continue
            loaded = LoadedModel(
                version=found.version,
                metadata=found.metadata,
                predictor=make_predictor(found.vectorizer, found.model),
            )
            _export_model_gauges(loaded, None)
            log.warning(
                "Serving the newest good kept version instead of the refused current one",
                model_version=version,
                refused=refused,
            )
            return loaded
        return None


def _export_model_gauges(model: LoadedModel, previous: LoadedModel | None) -> None:
    if previous is not None:
        metrics.MODEL_INFO.labels(version=previous.version).set(0)
    metrics.MODEL_INFO.labels(version=model.version).set(1)
    created_at = model.metadata.get("created_at")
    if isinstance(created_at, str):
        metrics.MODEL_CREATED.set(datetime.fromisoformat(created_at).timestamp())
    held_out = model.metadata.get("metrics") or {}
    if "accuracy" in held_out:
        metrics.MODEL_ACCURACY.set(held_out["accuracy"])
    if "f1_macro" in held_out:
        metrics.MODEL_F1_MACRO.set(held_out["f1_macro"])
