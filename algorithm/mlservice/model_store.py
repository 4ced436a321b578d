"""The current model of this process, kept in memory and swapped when `current` moves.

Each gunicorn worker owns one ModelStore. A request costs one readlink while the version is
unchanged; a new version is loaded once (under a lock, so concurrent requests don't unpickle it
twice) and then served to every request, with no restart. A version that fails verification is
logged and skipped: the previously loaded model, if any, keeps serving.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlservice import artifacts
from mlservice.ml.predictors import Predictor, make_predictor

log = logging.getLogger(__name__)

# A version pruned between readlink and read is retried against the newer `current`.
_LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class LoadedModel:
    version: str
    metadata: dict[str, Any]
    predictor: Predictor


class ModelStore:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._rejected_version: str | None = None

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

    def _load_locked(self) -> LoadedModel | None:
        for _ in range(_LOAD_ATTEMPTS):
            version = artifacts.current_version(self.models_dir)
            if version is None:
                return None
            if self._loaded is not None and self._loaded.version == version:
                return self._loaded  # another thread loaded it while we waited for the lock
            if version == self._rejected_version:
                return self._loaded
            try:
                found = artifacts.load(self.models_dir, version)
            except artifacts.VersionVanished:
                continue
            except artifacts.ArtifactError:
                log.exception("Cannot serve model version %s; keeping the previous model", version)
                self._rejected_version = version
                return self._loaded
            self._loaded = LoadedModel(
                version=found.version,
                metadata=found.metadata,
                predictor=make_predictor(found.vectorizer, found.model),
            )
            log.info("Loaded model version %s", found.version)
            return self._loaded
        return self._loaded
