"""Model versions in Postgres, the system of record; each API process follows them into MODELS_DIR.

Why Postgres: every node of a swarm (and every container of a compose stack) already reaches it,
it is backed up with the data, and one transaction can add a version and move the `current`
pointer together, so no reader ever sees a pointer to a version that is not there. No filesystem
is shared between nodes.

    model_version  (version, metadata, model, vectorizer, fence)   the three files' bytes as
                   artifacts.signed_files made them: metadata.json holds both pickles' sha256 and
                   an HMAC signature (MODEL_SIGNING_KEY) over the rest of it
    model_pointer  one row: current, last_good, the highest fence published

Writers (the worker): `publish` adds a version and makes it current and last good in one
transaction, refusing (Superseded, LeaseLost) exactly as the on-disk publish did; `activate`
verifies a kept version and points at it. Both NOTIFY `model_pointer` at commit.

Readers (each API process): a `Follower` thread LISTENs and also looks every MODEL_SYNC_SECONDS
(a missed notification, a reconnect). When the pointer or the set of versions changed, it copies
the missing versions into MODELS_DIR (written complete or not at all, nothing unpickled), moves
the local `current`/`last_good` links, and removes versions the database no longer keeps.
ModelStore then serves from MODELS_DIR as before: it verifies signature and checksums before
unpickling and falls back to `last_good` when `current` is refused, so a replica that cannot
verify a version keeps serving the last good one. While Postgres is unreachable the local copy
keeps serving; predictions never wait on the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import structlog
from psycopg.rows import class_row
from textclf_ops.process_thread import ProcessThread

from mlservice.config import Settings
from mlservice.observability import metrics
from mlservice.store import artifacts

log = structlog.get_logger(__name__)

CHANNEL = "model_pointer"
# Serialises publishers and activations (pg_advisory_xact_lock): the pointer and the fence move
# together.
_PUBLISH_LOCK_ID = 0x6D6F646C  # "modl"
_FETCH_STATEMENT_TIMEOUT_MS = 60_000
# After a lost connection the follower retries at most this often.
_RECONNECT_SECONDS = 2.0


@dataclass(frozen=True)
class Pointer:
    current: str | None
    last_good: str | None
    fence: int | None


def read_pointer(conn: psycopg.Connection) -> Pointer:
    row = conn.execute("SELECT current, last_good, fence FROM model_pointer").fetchone()
    return Pointer(*row) if row else Pointer(None, None, None)


def kept_versions(conn: psycopg.Connection) -> list[str]:
    """The versions the database keeps, newest first."""
    return [
        version
        for (version,) in conn.execute("SELECT version FROM model_version ORDER BY version DESC")
    ]


def fetch(conn: psycopg.Connection, version: str) -> dict[str, bytes] | None:
    """One version's three files, or None if it is not kept."""
    row = conn.execute(
        "SELECT metadata, model, vectorizer FROM model_version WHERE version = %s", [version]
    ).fetchone()
    if row is None:
        return None
    return dict(zip(artifacts.FILES, (bytes(blob) for blob in row), strict=True))


def stored_size(conn: psycopg.Connection, version: str) -> int | None:
    row = conn.execute(
        "SELECT octet_length(metadata) + octet_length(model) + octet_length(vectorizer)"
        " FROM model_version WHERE version = %s",
        [version],
    ).fetchone()
    return row[0] if row else None


def publish(
    conn: psycopg.Connection,
    version: str,
    files: dict[str, bytes],
    *,
    keep: int,
    fence: int | None = None,
    still_leased: Callable[[], bool] | None = None,
    promote: bool = True,
    actor: str = "training",
    reason: str = "trained",
    data_hash: str | None = None,
    holdout: bytes | None = None,
) -> None:
    """Store a signed version, in one transaction: with `promote`, as production (current and
    last good; the previous production version is archived), else as a candidate that nothing
    serves. Each stage change is recorded with `actor` and `reason`.

    Refuses with artifacts.Superseded if a newer run (higher fence) has published, or
    artifacts.LeaseLost if `still_leased` (asked last, under the lock) says no; then nothing is
    stored. Versions beyond the newest `keep` go, never the current or the last good one.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_PUBLISH_LOCK_ID])
        newest = read_pointer(conn).fence
        if fence is not None and newest is not None and newest > fence:
            raise artifacts.Superseded(
                f"superseded by a newer training (fence {newest} > {fence}); nothing was published"
            )
        if still_leased is not None and not still_leased():
            raise artifacts.LeaseLost(
                "lost its lease (a newer run took over); nothing was published"
            )
        conn.execute(
            "INSERT INTO model_version (version, metadata, model, vectorizer, fence, stage,"
            " data_hash, holdout) VALUES (%s, %s, %s, %s, %s, 'candidate', %s, %s)",
            [version, *(files[name] for name in artifacts.FILES), fence, data_hash, holdout],
        )
        _record_change(conn, version, None, CANDIDATE, actor=actor, reason=reason)
        if promote:
            _make_production(conn, version, actor=actor, reason=reason)
            _point(conn, version, fence=fence)
        else:
            if fence is not None:
                conn.execute("UPDATE model_pointer SET fence = GREATEST(fence, %s)", [fence])
            # The followers copy the candidate (listed by every replica) at commit.
            conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, version])
        conn.execute(
            "DELETE FROM model_version WHERE version NOT IN ("
            " SELECT version FROM model_version ORDER BY version DESC LIMIT %s)"
            " AND version NOT IN (SELECT current FROM model_pointer"
            "  UNION ALL SELECT last_good FROM model_pointer WHERE last_good IS NOT NULL)",
            [keep],
        )
    log.info("Published model version", model_version=version, fence=fence, promoted=promote)


def activate(
    conn: psycopg.Connection,
    version: str,
    *,
    signing_key: str,
    max_bytes: int | None = None,
    actor: str = "unknown",
    reason: str = "activated by hand",
    expect: tuple[str, ...] | None = None,
) -> bool:
    """Make a kept version production: point `current` and `last_good` at it after verifying
    its files, archive the previous production version, record both changes.

    With `expect`, only a version in one of those stages is moved (a promotion takes a
    candidate, a rollback an archived version): returns False, changing nothing, otherwise.
    Raises artifacts.VersionVanished if it is not kept, artifacts.ArtifactError if it does not
    verify (the pointer is then untouched).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_PUBLISH_LOCK_ID])
        files = fetch(conn, version)
        if files is None:
            raise artifacts.VersionVanished(f"Model version {version} does not exist.")
        artifacts.verify_files(version, files, signing_key=signing_key, max_bytes=max_bytes)
        stage = stage_of(conn, version)
        if expect is not None and stage not in expect:
            log.warning(
                "Not moving a model version in an unexpected stage",
                model_version=version,
                stage=stage,
                expected=expect,
            )
            return False
        if stage != PRODUCTION:
            _make_production(conn, version, actor=actor, reason=reason)
        pointer = read_pointer(conn)
        if pointer.current != version or pointer.last_good != version:
            _point(conn, version, fence=None)
    log.info("Activated model version", model_version=version, actor=actor)
    return True


CANDIDATE = "candidate"
PRODUCTION = "production"
ARCHIVED = "archived"
STAGES = (CANDIDATE, PRODUCTION, ARCHIVED)


@dataclass(frozen=True)
class StageChange:
    id: int
    version: str
    from_stage: str | None
    to_stage: str
    actor: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class Production:
    version: str
    data_hash: str | None


def waiting_candidate(conn: psycopg.Connection, pointer: Pointer) -> str | None:
    """The newest candidate if it is newer than production (a candidate held back before the
    current production version was made is not waiting for anything)."""
    row = conn.execute(
        "SELECT max(version) FROM model_version WHERE stage = 'candidate'"
    ).fetchone()
    newest = row[0] if row else None
    if newest is None or (pointer.current is not None and newest <= pointer.current):
        return None
    return newest


def stage_of(conn: psycopg.Connection, version: str) -> str | None:
    row = conn.execute("SELECT stage FROM model_version WHERE version = %s", [version]).fetchone()
    return row[0] if row else None


def stages(conn: psycopg.Connection) -> dict[str, str]:
    """{version: stage} of every kept version."""
    return dict(conn.execute("SELECT version, stage FROM model_version").fetchall())


def production(conn: psycopg.Connection) -> Production | None:
    row = conn.execute(
        "SELECT version, data_hash FROM model_version WHERE stage = 'production'"
    ).fetchone()
    return Production(*row) if row else None


def stage_changes(
    conn: psycopg.Connection, *, version: str | None = None, limit: int = 100
) -> list[StageChange]:
    """Newest first; one version's only, if given."""
    where = " WHERE version = %s" if version is not None else ""
    with conn.cursor(row_factory=class_row(StageChange)) as cur:
        cur.execute(
            "SELECT id, version, from_stage, to_stage, actor, reason, created_at"
            f" FROM model_stage_change{where} ORDER BY id DESC LIMIT %s",
            [*([version] if version is not None else []), limit],
        )
        return cur.fetchall()


@dataclass(frozen=True)
class Holdout:
    """What a version kept of its held-out fit: the fit's own pickle, or, when its published
    model is that fit (trained without a refit), the version's files."""

    metadata: bytes
    fit: bytes | None = None
    files: dict[str, bytes] | None = None


def fetch_holdout(conn: psycopg.Connection, version: str) -> Holdout | None:
    """The version's held-out fit as stored (unverified), or None if it kept none (trained
    before the promotion gate)."""
    row = conn.execute(
        "SELECT metadata, holdout, CASE WHEN holdout IS NULL THEN model END,"
        " CASE WHEN holdout IS NULL THEN vectorizer END FROM model_version WHERE version = %s",
        [version],
    ).fetchone()
    if row is None:
        return None
    metadata, fit, model, vectorizer = (None if blob is None else bytes(blob) for blob in row)
    if fit is not None:
        return Holdout(metadata, fit=fit)
    if _holdout_is_model(metadata):
        files = {
            artifacts.METADATA_FILE: metadata,
            artifacts.MODEL_FILE: model,
            artifacts.VECTORIZER_FILE: vectorizer,
        }
        return Holdout(metadata, files=files)
    return None


def _holdout_is_model(metadata: bytes) -> bool:
    # Only which columns to use: loading checks the signature, which covers this field.
    try:
        return json.loads(metadata).get(artifacts.HOLDOUT_IS_MODEL_FIELD) is True
    except (ValueError, AttributeError):
        return False


def _make_production(conn: psycopg.Connection, version: str, *, actor: str, reason: str) -> None:
    """Archive the production version (if another) and promote `version`; inside a transaction
    holding the publish lock."""
    previous = conn.execute(
        "SELECT version FROM model_version WHERE stage = 'production' AND version <> %s",
        [version],
    ).fetchone()
    if previous is not None:
        conn.execute(
            "UPDATE model_version SET stage = 'archived' WHERE version = %s", [previous[0]]
        )
        _record_change(
            conn,
            previous[0],
            PRODUCTION,
            ARCHIVED,
            actor=actor,
            reason=f"replaced by {version}: {reason}",
        )
    old = conn.execute(
        "UPDATE model_version m SET stage = 'production' FROM model_version o"
        " WHERE m.version = %s AND o.version = m.version RETURNING o.stage",
        [version],
    ).fetchone()
    _record_change(conn, version, old[0] if old else None, PRODUCTION, actor=actor, reason=reason)


def _record_change(
    conn: psycopg.Connection,
    version: str,
    from_stage: str | None,
    to_stage: str,
    *,
    actor: str,
    reason: str,
) -> None:
    conn.execute(
        "INSERT INTO model_stage_change (version, from_stage, to_stage, actor, reason)"
        " VALUES (%s, %s, %s, %s, %s)",
        [version, from_stage, to_stage, actor, reason],
    )


def _point(conn: psycopg.Connection, version: str, *, fence: int | None) -> None:
    conn.execute(
        "INSERT INTO model_pointer (singleton, current, last_good, fence, updated_at)"
        " VALUES (true, %(v)s, %(v)s, %(fence)s, now())"
        " ON CONFLICT (singleton) DO UPDATE SET current = %(v)s, last_good = %(v)s,"
        "  fence = GREATEST(model_pointer.fence, EXCLUDED.fence), updated_at = now()",
        {"v": version, "fence": fence},
    )
    # Delivered at commit, and only then.
    conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, version])


def sync(
    conn: psycopg.Connection, models_dir: Path, *, max_bytes: int | None = None
) -> tuple[Pointer, list[str]]:
    """Make MODELS_DIR hold the database's versions and pointers; returns what it copied.

    Copies each missing version (files as stored: readers verify them before unpickling),
    moves `last_good` and `current`, then removes local versions the database no longer keeps.
    A version larger than `max_bytes` is not copied (the API would refuse it anyway).
    """
    pointer = read_pointer(conn)
    kept = kept_versions(conn)
    if pointer.current is None and not kept:
        # Nothing was ever published here: a directory from before this mechanism is left alone.
        return pointer, []
    local = set(artifacts.local_versions(models_dir))
    copied = []
    for version in kept:
        if version in local:
            continue
        size = stored_size(conn, version)
        if max_bytes is not None and size is not None and size > max_bytes:
            log.error(
                "Not copying a model version larger than MODEL_MAX_BYTES",
                model_version=version,
                size=size,
            )
            metrics.MODEL_LOAD_FAILURES.labels(reason="too_large").inc()
            continue
        files = fetch(conn, version)
        if files is not None and artifacts.install(models_dir, version, files):
            copied.append(version)
            log.info("Copied model version from the database", model_version=version)
    waiting = waiting_candidate(conn, pointer)
    # Read again, not `local | copied`: another process sharing the volume (the worker, the
    # API's other workers) may have installed a version while this one was copying it, and
    # install() then returns False although the version is there.
    present = set(artifacts.local_versions(models_dir))
    artifacts.point_candidate(models_dir, waiting if waiting in present else None)
    if pointer.current is None:
        # Only candidates so far (the first one held back by the gate): copied, nothing served.
        return pointer, copied
    if pointer.current in present:
        artifacts.point(models_dir, current=pointer.current, last_good=pointer.last_good)
    spared = {pointer.current, pointer.last_good}
    artifacts.remove(models_dir, [v for v in local if v not in kept and v not in spared])
    return pointer, copied


class Follower:
    """A daemon thread keeping this process's MODELS_DIR in step with the database.

    One per process, started after the fork (gunicorn workers): `ensure_started` is cheap and
    idempotent. It acts when a notification arrives and every `interval` seconds, and only on a
    change since the last successful sync (so the first sync after a start or a reconnect always
    runs).
    """

    def __init__(self, settings: Settings, *, interval: float) -> None:
        self._settings = settings
        self._interval = interval
        self._thread = ProcessThread(self._run, name="model-follower", before_start=self._reset)
        self._stop = threading.Event()
        self._synced = threading.Event()
        self._last: tuple[Pointer, tuple[str, ...]] | None = None

    def ensure_started(self) -> None:
        self._thread.ensure_started()

    def _reset(self) -> None:
        # A forked child inherits its parent's record of the last sync, not its thread.
        self._last = None
        self._synced.clear()

    def wait_synced(self, timeout: float) -> bool:
        """Whether a first sync has completed within `timeout` seconds (tests, start-up)."""
        return self._synced.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except (psycopg.Error, OSError) as exc:
                log.warning("Model follower lost the database; retrying", error=str(exc))
                self._last = None
                self._stop.wait(_RECONNECT_SECONDS)
            except Exception:  # a bug must not end the thread: the next round retries
                log.exception("Model follower failed; retrying")
                self._last = None
                self._stop.wait(_RECONNECT_SECONDS)

    def _follow(self) -> None:
        settings = self._settings
        with psycopg.connect(
            settings.database_url.get_secret_value(),
            autocommit=True,
            connect_timeout=settings.database_connect_timeout,
            application_name="mlservice-model-follower",
            options=f"-c statement_timeout={_FETCH_STATEMENT_TIMEOUT_MS}",
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                self._sync_if_changed(conn)
                # Wakes on the first notification or after the interval, whichever is first.
                for _ in conn.notifies(timeout=self._interval, stop_after=1):
                    pass

    def _sync_if_changed(self, conn: psycopg.Connection) -> None:
        state = (read_pointer(conn), tuple(kept_versions(conn)))
        if state == self._last:
            return
        started = time.perf_counter()
        pointer, copied = sync(
            conn, self._settings.models_dir, max_bytes=self._settings.model_max_bytes
        )
        self._last = state
        self._synced.set()
        log.info(
            "Models directory follows the database",
            current=pointer.current,
            copied=copied,
            seconds=round(time.perf_counter() - started, 3),
        )


def sync_quietly(conn: psycopg.Connection, settings: Settings) -> None:
    """The worker's own copy after a publish or an activation (a compose stack's API shares its
    volume). The database already holds the change and every API follows it, so a local failure
    (a full disk) is logged, not raised."""
    try:
        sync(conn, settings.models_dir, max_bytes=settings.model_max_bytes)
    except OSError as exc:
        log.warning("Could not copy the models into MODELS_DIR", error=str(exc))
