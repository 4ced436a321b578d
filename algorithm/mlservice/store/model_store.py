"""The model this process serves, kept in memory and swapped when `current` moves.

Each gunicorn worker owns one ModelStore. A request costs one readlink while the version is
unchanged; a new version is loaded once (under a lock, so concurrent requests don't unpickle it
twice) and then served to every request, with no restart.

When the version `current` points at is refused (unsigned, tampered, incompatible, larger than
MODEL_MAX_BYTES), what to serve instead is decided from the models directory alone, so every
worker of every replica serves the same version whatever it held before: the version `last_good`
points at (the last one a publish or a verified activation made current), or, if that is missing
or refused too, the newest kept version that verifies. A recorded pointer rather than "the newest
older version" because the refused version may be older than the good one (a kept version
pointed at by hand) and an operator's switch back to an older version must hold. The decision is
remade only when `current` or `last_good` moves: while degraded, a request costs two readlinks.
Nothing that verifies: no model (the API answers 503), the same answer everywhere.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from mlservice.ml.predictors import Predictor, make_predictor
from mlservice.observability import drift, metrics
from mlservice.store import artifacts

log = structlog.get_logger(__name__)

# A version pruned between readlink and read is retried against the newer `current`.
_LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class LoadedModel:
    version: str
    metadata: dict[str, Any]
    predictor: Predictor


@dataclass(frozen=True)
class _Decision:
    """What to serve for one (current, last_good) pair; swapped as a whole, read without lock."""

    current: str | None
    last_good: str | None
    model: LoadedModel | None
    # Why `current` is not the version served (None when it is).
    refused: str | None = None


class ModelStore:
    def __init__(self, models_dir: Path, *, signing_key: str, max_bytes: int | None = None) -> None:
        self.models_dir = models_dir
        self._signing_key = signing_key
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._decision: _Decision | None = None

    def current(self) -> LoadedModel | None:
        """The model `current` points at, or the last good one if it is refused; None if none."""
        version = artifacts.current_version(self.models_dir)
        if version is None:
            return None
        decision = self._decision
        if decision is not None and decision.current == version:
            if decision.refused is None:
                return decision.model
            if decision.last_good == artifacts.last_good_version(self.models_dir):
                return decision.model
        with self._lock:
            return self._decide_locked()

    def error(self) -> str | None:
        """Why the version `current` points at is not being served, or None if it is."""
        decision = self._decision
        if decision is None or decision.current != artifacts.current_version(self.models_dir):
            return None
        return decision.refused

    def _decide_locked(self) -> LoadedModel | None:
        for _ in range(_LOAD_ATTEMPTS):
            version = artifacts.current_version(self.models_dir)
            if version is None:
                return None
            last_good = artifacts.last_good_version(self.models_dir)
            decision = self._decision
            if (
                decision is not None
                and decision.current == version
                and (decision.refused is None or decision.last_good == last_good)
            ):
                return decision.model  # another thread decided while we waited
            try:
                loaded = self._load(version)
            except artifacts.VersionVanished:
                continue
            except artifacts.ArtifactError as exc:
                fallback = self._fallback(refused=version, last_good=last_good)
                log.error(
                    "Refused model version; serving the last good one",
                    model_version=version,
                    reason=exc.reason,
                    error=str(exc),
                    serving=fallback.version if fallback else None,
                )
                self._switch(_Decision(version, last_good, fallback, refused=str(exc)))
                return fallback
            self._switch(_Decision(version, last_good, loaded))
            log.info("Loaded model version", model_version=version)
            return loaded
        return self._decision.model if self._decision else None

    def _fallback(self, *, refused: str, last_good: str | None) -> LoadedModel | None:
        """`last_good` if it verifies, else the newest kept version that does; or None."""
        candidates = [last_good] if last_good not in (None, refused) else []
        candidates += [
            metadata["version"]
            for metadata in artifacts.list_versions(self.models_dir)
            if isinstance(metadata.get("version"), str)
            and metadata["version"] not in (refused, last_good)
        ]
        for version in candidates:
            try:
                return self._load(version)
            except artifacts.ArtifactError:
                continue
        return None

    def _load(self, version: str) -> LoadedModel:
        """The version, verified on disk (so every process decides alike), and unpickled unless
        this process already holds it. Refusals are counted and re-raised."""
        held = self._decision.model if self._decision else None
        reuse = held is not None and held.version == version
        check = artifacts.verify if reuse else artifacts.load
        started = time.perf_counter()
        try:
            found = check(
                self.models_dir,
                version,
                signing_key=self._signing_key,
                max_bytes=self._max_bytes,
            )
        except artifacts.VersionVanished:
            raise
        except artifacts.ArtifactError as exc:
            metrics.MODEL_LOAD_FAILURES.labels(reason=exc.reason).inc()
            raise
        if reuse:
            return held
        metrics.MODEL_LOAD_DURATION.observe(time.perf_counter() - started)
        return LoadedModel(
            version=found.version,
            metadata=found.metadata,
            predictor=make_predictor(found.vectorizer, found.model),
        )

    def _switch(self, decision: _Decision) -> None:
        previous = self._decision.model if self._decision else None
        self._decision = decision
        if decision.model is not previous:
            _export_model_gauges(decision.model, previous)


def _export_model_gauges(model: LoadedModel | None, previous: LoadedModel | None) -> None:
    if previous is not None:
        metrics.MODEL_INFO.labels(version=previous.version).set(0)
    if model is None:
        return
    metrics.MODEL_INFO.labels(version=model.version).set(1)
    drift.export_baseline(model.version, model.predictor.labels, model.metadata)
    created_at = model.metadata.get("created_at")
    if isinstance(created_at, str):
        metrics.MODEL_CREATED.set(datetime.fromisoformat(created_at).timestamp())
    held_out = model.metadata.get("metrics") or {}
    if "accuracy" in held_out:
        metrics.MODEL_ACCURACY.set(held_out["accuracy"])
    if "f1_macro" in held_out:
        metrics.MODEL_F1_MACRO.set(held_out["f1_macro"])
