"""Versioned model artifacts on disk, published atomically behind a `current` symlink.

    MODELS_DIR/
      versions/<version>/{model.pickle, vectorizer.pickle, metadata.json}
      current -> versions/<version>
      tmp/                       staging area (same filesystem, so renames are atomic)

A version directory is complete before it becomes visible (written in tmp/, fsynced, renamed into
versions/), and `current` moves with one rename of a fresh symlink over the old one, so a reader
that resolves `current` once and reads from that directory always gets a matching pair. Pruning
renames a directory out of versions/ before deleting it, so no reader sees a half-deleted one.

Pickles are only unpickled after their sha256 matches metadata.json, and only when the format and
scikit-learn versions match this build's; anything else is reported as ArtifactError and treated
as "no model" by callers. The models volume is written only by this service's worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODEL_FILE = "model.pickle"
VECTORIZER_FILE = "vectorizer.pickle"
METADATA_FILE = "metadata.json"
CURRENT_LINK = "current"
VERSIONS_DIR = "versions"
STAGING_DIR = "tmp"
# Staging entries older than this belong to a crashed publish and are swept by the next one.
STALE_STAGING_SECONDS = 3600
# e.g. 20261127T010203.123456Z-3fa2c1: sorts by time; microseconds order quick successive publishes.
VERSION_PATTERN = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


class ArtifactError(Exception):
    """A version is missing, corrupt or incompatible with this build."""


class VersionVanished(ArtifactError):
    """The version was pruned while being read; resolve `current` again."""


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
    models_dir: Path, *, model: Any, vectorizer: Any, metadata: dict[str, Any], keep: int
) -> str:
    """Write a new version, point `current` at it, prune old versions; returns the version id.

    `metadata` carries the training facts (n_samples, labels, metrics, parameters, job_id, ...);
    version, created_at, format and library versions and the pickles' sha256 are added here.
    """
    versions_dir = models_dir / VERSIONS_DIR
    staging_root = models_dir / STAGING_DIR
    versions_dir.mkdir(parents=True, exist_ok=True)
    staging_root.mkdir(parents=True, exist_ok=True)
    _sweep_stale_staging(staging_root)

    created_at = datetime.now(UTC)
    version = new_version_id(created_at)
    staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"publish-{version}-"))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the version from other readers of the volume
    checksums = {
        MODEL_FILE: _write_pickle(staging / MODEL_FILE, model),
        VECTORIZER_FILE: _write_pickle(staging / VECTORIZER_FILE, vectorizer),
    }
    full_metadata = {
        **metadata,
        "version": version,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "format_version": FORMAT_VERSION,
        "sklearn_version": sklearn_version(),
        "sha256": checksums,
    }
    _write_file(
        staging / METADATA_FILE,
        json.dumps(full_metadata, indent=2, sort_keys=True).encode("utf-8"),
    )
    _fsync_dir(staging)
    os.rename(staging, versions_dir / version)
    _fsync_dir(versions_dir)

    # The link's text is relative to MODELS_DIR, wherever the volume is mounted; building it in
    # the staging area leaves a crashed publish's leftover where the sweep finds it.
    link_tmp = staging_root / f"link-{secrets.token_hex(8)}"
    os.symlink(Path(VERSIONS_DIR) / version, link_tmp)
    os.replace(link_tmp, models_dir / CURRENT_LINK)
    _fsync_dir(models_dir)
    log.info("Published model version %s", version)

    prune(models_dir, keep=keep)
    return version


def current_version(models_dir: Path) -> str | None:
    """The version `current` points at, with one readlink; None without a published model."""
    try:
        target = os.readlink(models_dir / CURRENT_LINK)
    except FileNotFoundError:
        return None
    version = Path(target).name
    if not VERSION_PATTERN.match(version):
        log.error("Ignoring %s: it points at %r, not a version", CURRENT_LINK, target)
        return None
    return version


def load(models_dir: Path, version: str) -> ModelArtifacts:
    """Read, verify and unpickle one version. Raises ArtifactError (VersionVanished if gone)."""
    if not VERSION_PATTERN.match(version):
        raise ArtifactError(f"Not a model version: {version!r}.")
    directory = models_dir / VERSIONS_DIR / version
    try:
        metadata = json.loads((directory / METADATA_FILE).read_bytes())
        blobs = {name: (directory / name).read_bytes() for name in (MODEL_FILE, VECTORIZER_FILE)}
    except FileNotFoundError:
        if not directory.exists():
            raise VersionVanished(f"Model version {version} no longer exists.") from None
        raise ArtifactError(f"Model version {version} is incomplete.") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Model version {version} is unreadable: {exc}") from exc

    _check_compatible(version, metadata)
    expected = metadata.get("sha256") or {}
    for name, blob in blobs.items():
        if hashlib.sha256(blob).hexdigest() != expected.get(name):
            raise ArtifactError(f"Model version {version}: {name} does not match its sha256.")
    try:
        model = pickle.loads(blobs[MODEL_FILE])
        vectorizer = pickle.loads(blobs[VECTORIZER_FILE])
    except Exception as exc:  # a verified pickle that still fails is an incompatible build
        raise ArtifactError(f"Model version {version} cannot be unpickled: {exc!r}") from exc
    return ModelArtifacts(version=version, model=model, vectorizer=vectorizer, metadata=metadata)


def list_versions(models_dir: Path) -> list[dict[str, Any]]:
    """Metadata of every readable version, newest first; unreadable ones are logged and skipped."""
    versions_dir = models_dir / VERSIONS_DIR
    if not versions_dir.is_dir():
        return []
    listed = []
    for version in sorted(_version_names(versions_dir), reverse=True):
        try:
            listed.append(json.loads((versions_dir / version / METADATA_FILE).read_bytes()))
        except FileNotFoundError:
            continue  # pruned while listing
        except (OSError, ValueError):
            log.warning("Skipping model version %s: unreadable metadata", version)
    return listed


def prune(models_dir: Path, *, keep: int) -> list[str]:
    """Delete all but the newest `keep` versions, never the current one; returns the deleted."""
    versions_dir = models_dir / VERSIONS_DIR
    current = current_version(models_dir)
    names = sorted(_version_names(versions_dir), reverse=True)
    doomed = [name for name in names[keep:] if name != current]
    staging_root = models_dir / STAGING_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    for name in doomed:
        graveyard = staging_root / f"prune-{name}-{secrets.token_hex(4)}"
        try:
            os.rename(versions_dir / name, graveyard)
        except FileNotFoundError:
            continue  # another publisher pruned it first
        shutil.rmtree(graveyard, ignore_errors=True)
        log.info("Pruned model version %s", name)
    return doomed


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
            f"this build reads format {FORMAT_VERSION}."
        )
    if metadata.get("sklearn_version") != sklearn_version():
        raise ArtifactError(
            f"Model version {version} was trained with scikit-learn "
            f"{metadata.get('sklearn_version')}; this build has {sklearn_version()}. Retrain."
        )


def _write_pickle(path: Path, obj: Any) -> str:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _write_file(path, blob)
    return hashlib.sha256(blob).hexdigest()


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
