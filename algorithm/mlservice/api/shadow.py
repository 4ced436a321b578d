"""Shadow scoring: while a candidate waits, a share of live predictions is also scored by it.

The answer never waits for the candidate: the request only draws the sample and hands the texts
and production's labels to a queue (dropped, and counted, when the queue is full); one daemon
thread per API process loads the candidate (verified like any model, once per version), scores
the texts and counts how often it agrees with production, overall and per production label:
`ml_shadow_predictions_total{candidate_version, production_version, label, agreed}` for
Prometheus, and the same counts added to Postgres (`shadow_agreement`, at most about once a
second) for the candidate's record, which sums every process of every replica.

Which version is waiting: the follower points the local `candidate` link at the newest candidate
newer than production (store/artifact_db.sync); no link, no shadow scoring.
"""

from __future__ import annotations

import queue
import random
import time
from collections import Counter

import psycopg
import structlog
from textclf_ops.process_thread import ProcessThread

from mlservice.config import Settings
from mlservice.ml.predictors import make_predictor, prediction_rows
from mlservice.observability import metrics
from mlservice.store import artifacts

log = structlog.get_logger(__name__)

# Batches waiting for the shadow thread; beyond this a sample is dropped, never waited for.
QUEUE_MAX = 64
# Counts go to Postgres at most this often per process (each flush is a connection of its own),
# and once the queue has been quiet this long.
_FLUSH_SECONDS = 1.0
_FLUSH_NOW = object()  # a queue item: flush what is pending (drain)


class ShadowScorer:
    def __init__(self, settings: Settings, *, rng: random.Random | None = None) -> None:
        self._settings = settings
        self._share = settings.shadow_share
        self._rng = rng or random.Random()  # noqa: S311 - sampling, not security
        self._thread = ProcessThread(self._run, name="shadow-scorer")
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_MAX)
        self._loaded: tuple[str, object] | None = None
        # (candidate, production, label) -> [scored, agreed], not yet in Postgres
        self._pending: dict[tuple[str, str, str], list[int]] = {}
        self._last_flush = 0.0

    def submit(self, texts: list[str], labels: list[str | None], production_version: str) -> None:
        """Maybe score these texts with the waiting candidate, later, in the shadow thread."""
        if self._share <= 0 or self._rng.random() >= self._share:
            return
        candidate = artifacts.candidate_version(self._settings.models_dir)
        if candidate is None or candidate == production_version:
            return
        self._thread.ensure_started()
        try:
            self._queue.put_nowait((candidate, production_version, texts, labels))
        except queue.Full:
            metrics.SHADOW_DROPPED.inc()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued batch is scored and flushed (tests)."""
        deadline = time.monotonic() + timeout
        if self._thread.running_here:  # it flushes once it reaches this
            self._queue.put(_FLUSH_NOW, timeout=timeout)
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_FLUSH_SECONDS)
            except queue.Empty:
                self._flush_quietly()
                continue
            try:
                if item is _FLUSH_NOW:
                    self._flush_quietly()
                    continue
                self._score(*item)
                if time.monotonic() - self._last_flush >= _FLUSH_SECONDS:
                    self._flush_quietly()
            except Exception:  # a bug or a refused candidate must not end the thread
                log.exception("Shadow scoring failed")
            finally:
                self._queue.task_done()

    def _score(
        self, candidate: str, production: str, texts: list[str], labels: list[str | None]
    ) -> None:
        predictor = self._candidate_predictor(candidate)
        if predictor is None:
            return
        analysis = predictor.analyse(texts, explain=None)
        shadow = [row["label"] for row in prediction_rows(predictor.labels, analysis)]
        counts: Counter[tuple[str, bool]] = Counter()
        for label, other in zip(labels, shadow, strict=True):
            if label is not None:
                counts[(label, label == other)] += 1
        for (label, agreed), count in counts.items():
            metrics.SHADOW_PREDICTIONS.labels(
                candidate_version=candidate,
                production_version=production,
                label=label,
                agreed="true" if agreed else "false",
            ).inc(count)
            totals = self._pending.setdefault((candidate, production, label), [0, 0])
            totals[0] += count
            totals[1] += count if agreed else 0

    def _candidate_predictor(self, version: str):
        if self._loaded is not None and self._loaded[0] == version:
            return self._loaded[1]
        settings = self._settings
        try:
            found = artifacts.load(
                settings.models_dir,
                version,
                signing_key=settings.model_signing_key.get_secret_value(),
                max_bytes=settings.model_max_bytes,
            )
        except artifacts.ArtifactError as exc:
            log.warning(
                "Not shadow scoring a refused candidate", model_version=version, error=str(exc)
            )
            self._loaded = (version, None)
            return None
        predictor = make_predictor(found.vectorizer, found.model)
        self._loaded = (version, predictor)
        return predictor

    def _flush_quietly(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            with psycopg.connect(
                self._settings.database_url.get_secret_value(),
                autocommit=True,
                connect_timeout=self._settings.database_connect_timeout,
                application_name="mlservice-shadow",
            ) as conn:
                add_agreement(conn, pending)
        except psycopg.Error as exc:
            # The Prometheus counters have them; the record misses this batch.
            log.warning("Could not record shadow agreement", error=str(exc))
        self._last_flush = time.monotonic()


def add_agreement(conn: psycopg.Connection, counts: dict[tuple[str, str, str], list[int]]) -> None:
    with conn.transaction():
        for (candidate, production, label), (scored, agreed) in sorted(counts.items()):
            conn.execute(
                "INSERT INTO shadow_agreement"
                " (candidate_version, production_version, label, scored, agreed)"
                " VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (candidate_version, production_version, label) DO UPDATE"
                " SET scored = shadow_agreement.scored + EXCLUDED.scored,"
                "  agreed = shadow_agreement.agreed + EXCLUDED.agreed, updated_at = now()",
                [candidate, production, label, scored, agreed],
            )


def agreement(conn: psycopg.Connection, candidate: str) -> list[dict]:
    """The candidate's agreement with each production version it shadowed: overall and per
    production label."""
    rows = conn.execute(
        "SELECT production_version, label, scored, agreed FROM shadow_agreement"
        " WHERE candidate_version = %s ORDER BY production_version DESC, label",
        [candidate],
    ).fetchall()
    by_production: dict[str, dict] = {}
    for production, label, scored, agreed in rows:
        entry = by_production.setdefault(
            production,
            {"production_version": production, "scored": 0, "agreed": 0, "per_label": {}},
        )
        entry["scored"] += scored
        entry["agreed"] += agreed
        entry["per_label"][label] = {
            "scored": scored,
            "agreed": agreed,
            "agreement": agreed / scored if scored else None,
        }
    for entry in by_production.values():
        entry["agreement"] = entry["agreed"] / entry["scored"] if entry["scored"] else None
    return list(by_production.values())
