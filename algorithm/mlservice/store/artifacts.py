"""Versioned model artifacts on disk, published atomically behind a `current` symlink.

    MODELS_DIR/
      versions/<version>/{model.pickle, vectorizer.pickle, metadata.json}
      current -> versions/<version>
      last_good -> versions/<version>   the last version made current after verifying it
      fence                      the highest fence number ever published
      .publish.lock              fcntl lock held by whoever moves `current`
      tmp/                       staging area (same filesystem, so renames are atomic)

A version directory is complete before it becomes visible (written in tmp/, fsynced, renamed into
versions/), and `current` moves with one rename of a fresh symlink over the old one, so a reader
that resolves `current` once and reads from that directory always gets a matching pair. Pruning
renames a directory out of versions/ before deleting it, so no reader sees a half-deleted one.

Integrity (paperless-ngx's model handling): metadata.json holds both pickles' sha256 and an HMAC
signature (MODEL_SIGNING_KEY) over the rest of it. A reader checks the signature, the version,
the format and scikit-learn versions and the checksums, and only then unpickles; anything else is
an ArtifactError with a `reason`, which callers treat as "not this model". A version larger
than MODEL_MAX_BYTES on disk is refused from its file sizes alone, before anything is read.

`last_good` moves with `current` whenever a writer makes a version current (a publish, which has
just signed it, or an activation, which has just verified it), under the publish lock. Anything
else that moves `current` (an attacker, a hand-made link, a restore) leaves `last_good` behind,
so every API process that refuses `current` falls back to the same version, read from the disk
rather than from whatever that process happened to hold.

Postgres is the system of record (store/artifact_db.py): the worker publishes there, and every
process copies versions and pointers into its MODELS_DIR with `install` and `point`.
Writers take the publish lock. A training
run publishes with its fence number: if a newer run (higher fence) has already published, or its
job lost its lease, it publishes nothing, so a run that lost its lock cannot replace a newer model.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import structlog

from mlservice.store import signing

log = structlog.get_logger(__name__)

# 2: metadata carries an HMAC signature and the publishing run's fence number.
FORMAT_VERSION = 2
MODEL_FILE = "model.pickle"
VECTORIZER_FILE = "vectorizer.pickle"
METADATA_FILE = "metadata.json"
CURRENT_LINK = "current"
LAST_GOOD_LINK = "last_good"
# The candidate waiting for promotion (newer than production), which shadow scoring follows.
CANDIDATE_LINK = "candidate"
VERSIONS_DIR = "versions"
STAGING_DIR = "tmp"
LOCK_FILE = ".publish.lock"
FENCE_FILE = "fence"
FILES = (METADATA_FILE, MODEL_FILE, VECTORIZER_FILE)
# Metadata lists labels and metrics: far below this even at TRAIN_MAX_LABELS. Listing versions
# reads every metadata.json, so an oversized one is skipped rather than read.
MAX_METADATA_BYTES = 4 * 1024 * 1024
# Staging entries older than this belong to a crashed publish and are swept by the next one.
STALE_STAGING_SECONDS = 3600
# e.g. 20261127T010203.123456Z-3fa2c1: sorts by time; microseconds order quick successive publishes.
VERSION_PATTERN = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


class ArtifactError(Exception):
    """A version is missing, corrupt, too large or incompatible with this build.

    `reason` is a short fixed word for metrics and health: incomplete, unreadable, too_large,
    unsigned, bad_signature, wrong_version, incompatible, checksum_mismatch, unpickle_failed,
    vanished.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class VersionVanished(ArtifactError):
    """No such version (or it was pruned while being read: resolve `current` again)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="vanished")


class PublishRefused(Exception):
    """A training run may no longer publish; nothing was written and `current` is untouched."""


class Superseded(PublishRefused):
    """A model from a newer run (higher fence) has already been published."""


class LeaseLost(PublishRefused):
    """The run's job no longer holds the lease its fence number stands for."""


class ModelTooLarge(PublishRefused):
    """The serialized model exceeds MODEL_MAX_BYTES, which the API would refuse to load."""


@dataclass(frozen=True)
class ModelArtifacts:
    version: str
    model: Any
    vectorizer: Any
    metadata: dict[str, Any]


def sklearn_version() -> str:
    return package_version("scikit-learn")


def new_version_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now:%f}Z-{secrets.token_hex(3)}"


def publish(
    models_dir: Path,
    *,
    model: Any,
    vectorizer: Any,
    metadata: dict[str, Any],
    keep: int,
    signing_key: str,
    fence: int | None = None,
    still_leased: Callable[[], bool] | None = None,
    max_bytes: int | None = None,
) -> str:
    """Write a signed new version, point `current` at it, prune old versions; returns its id.

    `metadata` carries the training facts (n_samples, labels, metrics, parameters, job_id, ...);
    version, created_at, format and library versions, the pickles' sha256, the fence and the
    signature are added here. The files are staged without the lock; the lock is held only to
    check the fence and the lease (`still_leased`, asked last) and to make the version visible.
    Raises ModelTooLarge (the version's files would exceed `max_bytes`, which the API refuses to
    load), Superseded or LeaseLost (nothing published), or OSError (e.g. ENOSPC): in every case
    the staging directory is removed and `current` is untouched.
    """
    versions_dir = models_dir / VERSIONS_DIR
    staging_root = models_dir / STAGING_DIR
    versions_dir.mkdir(parents=True, exist_ok=True)
    staging_root.mkdir(parents=True, exist_ok=True)
    _sweep_stale_staging(staging_root)

    version, files = signed_files(
        model=model,
        vectorizer=vectorizer,
        metadata=metadata,
        signing_key=signing_key,
        fence=fence,
        max_bytes=max_bytes,
    )
    staging = _stage(staging_root, version, files)
    try:
        with publish_lock(models_dir):
            newest = published_fence(models_dir)
            if fence is not None and newest is not None and newest > fence:
                raise Superseded(
                    f"superseded by a newer training (fence {newest} > {fence}); "
                    "nothing was published"
                )
            if still_leased is not None and not still_leased():
                raise LeaseLost("lost its lease (a newer run took over); nothing was published")
            os.rename(staging, versions_dir / version)
            _fsync_dir(versions_dir)
            _make_current(models_dir, version)
            if fence is not None:
                _write_fence(models_dir, fence)
            log.info("Published model version", model_version=version, fence=fence)
            prune(models_dir, keep=keep)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def signed_files(
    *,
    model: Any,
    vectorizer: Any,
    metadata: dict[str, Any],
    signing_key: str,
    fence: int | None = None,
    max_bytes: int | None = None,
) -> tuple[str, dict[str, bytes]]:
    """A new version id and its three files' bytes, signed, built in memory (see `publish`).

    Raises ModelTooLarge as soon as the serialized bytes exceed `max_bytes`.
    """
    created_at = datetime.now(UTC)
    version = new_version_id(created_at)
    budget = _SizeBudget(max_bytes)
    files = {}
    for name, obj in ((MODEL_FILE, model), (VECTORIZER_FILE, vectorizer)):
        files[name] = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        budget.add(len(files[name]), name)
    full_metadata = {
        **metadata,
        "version": version,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "format_version": FORMAT_VERSION,
        "sklearn_version": sklearn_version(),
        "sha256": {name: hashlib.sha256(blob).hexdigest() for name, blob in files.items()},
        "fence": fence,
    }
    full_metadata[signing.SIGNATURE_FIELD] = signing.sign(full_metadata, signing_key)
    files[METADATA_FILE] = json.dumps(full_metadata, indent=2, sort_keys=True).encode("utf-8")
    budget.add(len(files[METADATA_FILE]), METADATA_FILE)
    return version, files


def install(models_dir: Path, version: str, files: dict[str, bytes]) -> bool:
    """Write a version's files (as `signed_files` made them) into versions/ unless it is there;
    the directory appears complete or not at all. Nothing is verified or moved: readers verify.
    Returns whether it was written."""
    if not VERSION_PATTERN.match(version):
        raise ValueError(f"Not a model version: {version!r}.")
    versions_dir = models_dir / VERSIONS_DIR
    if (versions_dir / version).is_dir():
        return False
    versions_dir.mkdir(parents=True, exist_ok=True)
    staging_root = models_dir / STAGING_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = _stage(staging_root, version, files)
    try:
        os.rename(staging, versions_dir / version)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if (versions_dir / version).is_dir():
            return False  # another process installed it first
        raise
    _fsync_dir(versions_dir)
    return True


def point(models_dir: Path, *, current: str, last_good: str | None) -> None:
    """Move `current` and `last_good` to these versions (a follower copying them from the system
    of record, which verified them when it moved them)."""
    with publish_lock(models_dir):
        if last_good is not None and last_good_version(models_dir) != last_good:
            _point_link(models_dir, LAST_GOOD_LINK, last_good)
        if current_version(models_dir) != current:
            _point_link(models_dir, CURRENT_LINK, current)


def point_candidate(models_dir: Path, version: str | None) -> None:
    """Point `candidate` at the waiting candidate, or remove it when none waits."""
    if candidate_version(models_dir) == version:
        return
    with publish_lock(models_dir):
        if version is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(models_dir / CANDIDATE_LINK)
        else:
            _point_link(models_dir, CANDIDATE_LINK, version)


def candidate_version(models_dir: Path) -> str | None:
    """The candidate waiting for promotion (one readlink), or None."""
    return _link_version(models_dir, CANDIDATE_LINK)


def remove(models_dir: Path, names: list[str]) -> list[str]:
    """Delete these versions (renamed out of versions/ first, so no reader sees half of one);
    returns those that were there."""
    versions_dir = models_dir / VERSIONS_DIR
    staging_root = models_dir / STAGING_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    removed = []
    for name in names:
        graveyard = staging_root / f"prune-{name}-{secrets.token_hex(4)}"
        try:
            os.rename(versions_dir / name, graveyard)
        except FileNotFoundError:
            continue  # another process removed it first
        shutil.rmtree(graveyard, ignore_errors=True)
        removed.append(name)
        log.info("Pruned model version", model_version=name)
    return removed


def activate(
    models_dir: Path, version: str, *, signing_key: str, max_bytes: int | None = None
) -> None:
    """Point `current` (and `last_good`) at a kept version after verifying it (the worker's side
    of a switch)."""
    with publish_lock(models_dir):
        verify(models_dir, version, signing_key=signing_key, max_bytes=max_bytes)
        if current_version(models_dir) != version or last_good_version(models_dir) != version:
            _make_current(models_dir, version)
    log.info("Activated model version", model_version=version)


@contextlib.contextmanager
def publish_lock(models_dir: Path) -> Iterator[None]:
    """An exclusive fcntl lock on MODELS_DIR/.publish.lock: one writer of `current` at a time.

    The kernel drops it when its holder dies, so a killed worker never leaves it held.
    """
    fd = os.open(models_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def published_fence(models_dir: Path) -> int | None:
    """The highest fence number a published model carried, or None before the first."""
    try:
        return int((models_dir / FENCE_FILE).read_text())
    except FileNotFoundError:
        return None


def current_version(models_dir: Path) -> str | None:
    """The version `current` points at, with one readlink; None without a published model."""
    return _link_version(models_dir, CURRENT_LINK)


def last_good_version(models_dir: Path) -> str | None:
    """The version last made current by a publish or a verified activation (one readlink);
    None before the first one (or for versions published before this pointer existed)."""
    return _link_version(models_dir, LAST_GOOD_LINK)


def _link_version(models_dir: Path, name: str) -> str | None:
    try:
        target = os.readlink(models_dir / name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # e.g. not a symlink (EINVAL): not a pointer we wrote
        log.error("Ignoring a model pointer that is not a link", link=name, error=str(exc))
        return None
    version = Path(target).name
    if not VERSION_PATTERN.match(version):
        log.error(
            "Ignoring a model pointer: it does not point at a version", link=name, target=target
        )
        return None
    return version


def load(
    models_dir: Path, version: str, *, signing_key: str, max_bytes: int | None = None
) -> ModelArtifacts:
    """Verify, then unpickle one version. Raises ArtifactError (VersionVanished if gone)."""
    metadata, blobs = _read_verified(models_dir, version, signing_key, max_bytes)
    return _unpickle(version, metadata, blobs)


def load_files(
    version: str, files: dict[str, bytes], *, signing_key: str, max_bytes: int | None = None
) -> ModelArtifacts:
    """Verify, then unpickle one version given as its files' bytes (from Postgres)."""
    metadata = verify_files(version, files, signing_key=signing_key, max_bytes=max_bytes)
    return _unpickle(version, metadata, files)


def _unpickle(version: str, metadata: dict[str, Any], blobs: dict[str, bytes]) -> ModelArtifacts:
    try:
        model = pickle.loads(blobs[MODEL_FILE])
        vectorizer = pickle.loads(blobs[VECTORIZER_FILE])
    except Exception as exc:  # signed and intact, yet unusable: an incompatible build
        raise ArtifactError(
            f"Model version {version} cannot be unpickled: {exc!r}", reason="unpickle_failed"
        ) from exc
    return ModelArtifacts(version=version, model=model, vectorizer=vectorizer, metadata=metadata)


def verify(
    models_dir: Path, version: str, *, signing_key: str, max_bytes: int | None = None
) -> dict[str, Any]:
    """The version's metadata if it is signed, intact, compatible and not larger than
    `max_bytes`; never unpickles."""
    metadata, _ = _read_verified(models_dir, version, signing_key, max_bytes)
    return metadata


def _read_verified(
    models_dir: Path, version: str, signing_key: str, max_bytes: int | None = None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Metadata and pickle bytes, checked in order: size on disk (before reading anything),
    signature, version, compatibility, sha256."""
    if not VERSION_PATTERN.match(version):
        raise VersionVanished(f"Not a model version: {version!r}.")
    directory = models_dir / VERSIONS_DIR / version
    try:
        if max_bytes is not None:
            _check_size_on_disk(directory, version, max_bytes)
        files = {name: (directory / name).read_bytes() for name in FILES}
    except FileNotFoundError:
        if not directory.exists():
            raise VersionVanished(f"Model version {version} does not exist.") from None
        raise ArtifactError(
            f"Model version {version} is incomplete.", reason="incomplete"
        ) from None
    except OSError as exc:
        raise ArtifactError(
            f"Model version {version} is unreadable: {exc}", reason="unreadable"
        ) from exc
    metadata = verify_files(version, files, signing_key=signing_key, max_bytes=max_bytes)
    return metadata, {name: files[name] for name in (MODEL_FILE, VECTORIZER_FILE)}


def verify_files(
    version: str, files: dict[str, bytes], *, signing_key: str, max_bytes: int | None = None
) -> dict[str, Any]:
    """The metadata of a version given as its files' bytes, checked as one on disk is: size,
    signature, version, compatibility, sha256. Never unpickles; raises ArtifactError."""
    if max_bytes is not None and sum(len(blob) for blob in files.values()) > max_bytes:
        raise ArtifactError(
            f"Model version {version} is {sum(len(b) for b in files.values()):,} bytes; at most "
            f"MODEL_MAX_BYTES={max_bytes:,} are loaded.",
            reason="too_large",
        )
    if set(files) != set(FILES):
        raise ArtifactError(f"Model version {version} is incomplete.", reason="incomplete")
    try:
        metadata = json.loads(files[METADATA_FILE])
    except ValueError as exc:
        raise ArtifactError(
            f"Model version {version} is unreadable: {exc}", reason="unreadable"
        ) from exc
    if not isinstance(metadata, dict) or signing.SIGNATURE_FIELD not in metadata:
        raise ArtifactError(f"Model version {version} is not signed.", reason="unsigned")
    if not signing.is_signed_by(metadata, signing_key):
        raise ArtifactError(
            f"Model version {version}: its metadata signature is invalid (tampered, or signed "
            "with another MODEL_SIGNING_KEY).",
            reason="bad_signature",
        )
    if metadata.get("version") != version:
        raise ArtifactError(
            f"Model version {version} holds the signed metadata of {metadata.get('version')}.",
            reason="wrong_version",
        )
    _check_compatible(version, metadata)
    expected = metadata.get("sha256") or {}
    for name in (MODEL_FILE, VECTORIZER_FILE):
        if hashlib.sha256(files[name]).hexdigest() != expected.get(name):
            raise ArtifactError(
                f"Model version {version}: {name} does not match its signed sha256.",
                reason="checksum_mismatch",
            )
    return metadata


HOLDOUT_SHA256_FIELD = "holdout_sha256"
# Signed `true` when the published model is the held-out fit (trained without a refit): the fit
# is then not stored a second time, and the gate reads the version's own files.
HOLDOUT_IS_MODEL_FIELD = "holdout_is_model"


def load_holdout(version: str, metadata_bytes: bytes, holdout: bytes, *, signing_key: str) -> Any:
    """Unpickle a version's held-out fit (kept in Postgres only, for the promotion gate) after
    checking the version's signed metadata, its compatibility and the fit's signed sha256.
    Raises ArtifactError."""
    try:
        metadata = json.loads(metadata_bytes)
    except ValueError as exc:
        raise ArtifactError(
            f"Model version {version} is unreadable: {exc}", reason="unreadable"
        ) from exc
    if not isinstance(metadata, dict) or not signing.is_signed_by(metadata, signing_key):
        raise ArtifactError(
            f"Model version {version}: its metadata signature is invalid.", reason="bad_signature"
        )
    if metadata.get("version") != version:
        raise ArtifactError(
            f"Model version {version} holds the signed metadata of {metadata.get('version')}.",
            reason="wrong_version",
        )
    _check_compatible(version, metadata)
    if hashlib.sha256(holdout).hexdigest() != metadata.get(HOLDOUT_SHA256_FIELD):
        raise ArtifactError(
            f"Model version {version}: its held-out fit does not match its signed sha256.",
            reason="checksum_mismatch",
        )
    try:
        return pickle.loads(holdout)
    except Exception as exc:
        raise ArtifactError(
            f"Model version {version}'s held-out fit cannot be unpickled: {exc!r}",
            reason="unpickle_failed",
        ) from exc


def list_versions(models_dir: Path) -> list[dict[str, Any]]:
    """Metadata of every readable version, newest first; unreadable ones are logged and skipped."""
    versions_dir = models_dir / VERSIONS_DIR
    if not versions_dir.is_dir():
        return []
    listed = []
    for version in sorted(_version_names(versions_dir), reverse=True):
        path = versions_dir / version / METADATA_FILE
        try:
            if path.stat().st_size > MAX_METADATA_BYTES:
                log.warning(
                    "Skipping a model version with oversized metadata", model_version=version
                )
                continue
            listed.append(json.loads(path.read_bytes()))
        except FileNotFoundError:
            continue  # pruned while listing
        except (OSError, ValueError):
            log.warning("Skipping a model version with unreadable metadata", model_version=version)
    return listed


def prune(models_dir: Path, *, keep: int) -> list[str]:
    """Delete all but the newest `keep` versions, never the current or the last good one;
    returns the deleted."""
    versions_dir = models_dir / VERSIONS_DIR
    spared = {current_version(models_dir), last_good_version(models_dir)}
    names = sorted(_version_names(versions_dir), reverse=True)
    doomed = [name for name in names[keep:] if name not in spared]
    remove(models_dir, doomed)
    return doomed


def local_versions(models_dir: Path) -> list[str]:
    """The version directories present in MODELS_DIR (unverified)."""
    return _version_names(models_dir / VERSIONS_DIR)


def _version_names(versions_dir: Path) -> list[str]:
    try:
        entries = list(os.scandir(versions_dir))
    except FileNotFoundError:
        return []
    return [entry.name for entry in entries if VERSION_PATTERN.match(entry.name)]


def _check_compatible(version: str, metadata: dict[str, Any]) -> None:
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"Model version {version} has format {metadata.get('format_version')!r}; "
            f"this build reads format {FORMAT_VERSION}.",
            reason="incompatible",
        )
    if metadata.get("sklearn_version") != sklearn_version():
        raise ArtifactError(
            f"Model version {version} was trained with scikit-learn "
            f"{metadata.get('sklearn_version')}; this build has {sklearn_version()}. Retrain.",
            reason="incompatible",
        )


def _make_current(models_dir: Path, version: str) -> None:
    """Point `last_good`, then `current`, at a version the caller has just signed or verified.

    `last_good` first: a crash in between leaves `current` on the previous (good) version and
    `last_good` on the new one, both verified; readers serve `current` while it verifies.
    """
    _point_link(models_dir, LAST_GOOD_LINK, version)
    _point_link(models_dir, CURRENT_LINK, version)


def _point_link(models_dir: Path, name: str, version: str) -> None:
    # The link's text is relative to MODELS_DIR, wherever the volume is mounted; building it in
    # the staging area leaves a crashed switch's leftover where the sweep finds it.
    link_tmp = models_dir / STAGING_DIR / f"link-{secrets.token_hex(8)}"
    os.symlink(Path(VERSIONS_DIR) / version, link_tmp)
    os.replace(link_tmp, models_dir / name)
    _fsync_dir(models_dir)


class _SizeBudget:
    """Counts a version's bytes as they are serialized; over `limit`, refuses before writing."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def add(self, size: int, name: str) -> None:
        self.used += size
        if self.limit is not None and self.used > self.limit:
            raise ModelTooLarge(
                f"The trained model is larger than MODEL_MAX_BYTES={self.limit:,} (at least "
                f"{self.used:,} bytes serialized, counted up to {name}), so the ML API would "
                "refuse to load it. Nothing was published; lower TRAIN_MAX_FEATURES or the "
                "number of labels."
            )


def _check_size_on_disk(directory: Path, version: str, max_bytes: int) -> None:
    """Refuse a version whose files add up to more than `max_bytes`, from their sizes alone."""
    total = 0
    for name in (METADATA_FILE, MODEL_FILE, VECTORIZER_FILE):
        total += os.stat(directory / name).st_size
    if total > max_bytes:
        raise ArtifactError(
            f"Model version {version} is {total:,} bytes on disk; at most "
            f"MODEL_MAX_BYTES={max_bytes:,} are loaded.",
            reason="too_large",
        )


def _write_fence(models_dir: Path, fence: int) -> None:
    tmp = models_dir / STAGING_DIR / f"fence-{secrets.token_hex(8)}"
    _write_file(tmp, str(fence).encode())
    os.replace(tmp, models_dir / FENCE_FILE)
    _fsync_dir(models_dir)


def _stage(staging_root: Path, version: str, files: dict[str, bytes]) -> Path:
    """A staging directory holding the files, fsynced; removed again if writing fails."""
    staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"publish-{version}-"))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the version from the API's user
        for name, blob in files.items():
            _write_file(staging / name, blob)
        _fsync_dir(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sweep_stale_staging(staging_root: Path) -> None:
    cutoff = time.time() - STALE_STAGING_SECONDS
    for entry in os.scandir(staging_root):
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except FileNotFoundError:
            continue
