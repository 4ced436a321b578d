import errno
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading

import pytest

from mlservice.store import artifacts, signing
from tests.conftest import ALGORITHM_DIR
from tests.support import TEST_SIGNING_KEY, publish


def _publish(models_dir, token, *, keep=5, payload_size=1000, **options):
    # Model and vectorizer carry the same token, so a reader can tell a mismatched pair.
    return publish(
        models_dir,
        model={"token": token, "payload": os.urandom(payload_size)},
        vectorizer={"token": token},
        metadata={"job_id": str(token), "n_samples": token},
        keep=keep,
        **options,
    )


def _load(models_dir, version):
    return artifacts.load(models_dir, version, signing_key=TEST_SIGNING_KEY)


def _metadata_file(models_dir, version):
    return models_dir / "versions" / version / "metadata.json"


def _rewrite_metadata(models_dir, version, change, *, resign_with=None):
    path = _metadata_file(models_dir, version)
    metadata = json.loads(path.read_text())
    change(metadata)
    if resign_with is not None:
        metadata["signature"] = signing.sign(metadata, resign_with)
    path.write_text(json.dumps(metadata))


def test_no_model_before_the_first_publish(models_dir):
    assert artifacts.current_version(models_dir) is None
    assert artifacts.list_versions(models_dir) == []


def test_publish_then_load_round_trips(models_dir):
    version = _publish(models_dir, 1)
    assert artifacts.VERSION_PATTERN.match(version)
    assert artifacts.current_version(models_dir) == version
    loaded = _load(models_dir, version)
    assert loaded.model["token"] == loaded.vectorizer["token"] == 1
    assert loaded.metadata["job_id"] == "1"


def test_layout_and_metadata_follow_the_contract(models_dir):
    version = _publish(models_dir, 1)
    directory = models_dir / "versions" / version
    assert sorted(p.name for p in directory.iterdir()) == [
        "metadata.json",
        "model.pickle",
        "vectorizer.pickle",
    ]
    # Relative, so the link works wherever the volume is mounted.
    assert os.readlink(models_dir / "current") == f"versions/{version}"
    metadata = json.loads((directory / "metadata.json").read_text())
    assert metadata["version"] == version
    assert metadata["format_version"] == artifacts.FORMAT_VERSION
    assert metadata["sklearn_version"] == artifacts.sklearn_version()
    assert metadata["created_at"].endswith("Z")
    for name in ("model.pickle", "vectorizer.pickle"):
        digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        assert metadata["sha256"][name] == digest
    assert list((models_dir / "tmp").iterdir()) == []


def test_versions_sort_by_publication_time(models_dir):
    published = [_publish(models_dir, n) for n in range(4)]
    assert published == sorted(published)
    assert [m["version"] for m in artifacts.list_versions(models_dir)] == published[::-1]


def test_the_metadata_is_signed(models_dir):
    version = _publish(models_dir, 1)
    metadata = json.loads(_metadata_file(models_dir, version).read_text())
    assert signing.is_signed_by(metadata, TEST_SIGNING_KEY)
    assert not signing.is_signed_by(metadata, "another key")


def test_a_tampered_pickle_is_refused_before_unpickling(models_dir, monkeypatch):
    version = _publish(models_dir, 1)
    model_file = models_dir / "versions" / version / "model.pickle"
    model_file.write_bytes(pickle.dumps({"token": "evil"}))
    unpickled = []
    monkeypatch.setattr(pickle, "loads", lambda blob: unpickled.append(blob))
    with pytest.raises(artifacts.ArtifactError, match="does not match its signed sha256") as err:
        _load(models_dir, version)
    assert err.value.reason == "checksum_mismatch"
    assert unpickled == []


def _files(models_dir, version):
    return {
        name: (models_dir / "versions" / version / name).read_bytes() for name in artifacts.FILES
    }


def test_a_version_held_in_memory_loads_as_from_disk(models_dir):
    version = _publish(models_dir, 1)
    loaded = artifacts.load_files(
        version, _files(models_dir, version), signing_key=TEST_SIGNING_KEY
    )
    assert loaded.model["token"] == loaded.vectorizer["token"] == 1


def test_a_tampered_version_held_in_memory_is_refused_before_unpickling(models_dir, monkeypatch):
    version = _publish(models_dir, 1)
    files = {**_files(models_dir, version), "model.pickle": pickle.dumps({"token": "evil"})}
    unpickled = []
    monkeypatch.setattr(pickle, "loads", lambda blob: unpickled.append(blob))
    with pytest.raises(artifacts.ArtifactError, match="does not match its signed sha256"):
        artifacts.load_files(version, files, signing_key=TEST_SIGNING_KEY)
    assert unpickled == []


def test_a_tampered_pickle_with_a_matching_new_checksum_is_refused(models_dir):
    """Replacing a pickle and its sha256 needs the signing key, which an attacker lacks."""
    version = _publish(models_dir, 1)
    evil = pickle.dumps({"token": "evil"})
    (models_dir / "versions" / version / "model.pickle").write_bytes(evil)
    _rewrite_metadata(
        models_dir,
        version,
        lambda m: m["sha256"].update({"model.pickle": hashlib.sha256(evil).hexdigest()}),
    )
    with pytest.raises(artifacts.ArtifactError, match="signature is invalid") as err:
        _load(models_dir, version)
    assert err.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("change", "resign_with", "reason"),
    [
        (lambda m: m.update(n_samples=10**6), None, "bad_signature"),
        (lambda m: m.pop("signature"), None, "unsigned"),
        (lambda m: None, "a key that is not ours", "bad_signature"),
        (lambda m: m.update(sklearn_version="0.24.2"), TEST_SIGNING_KEY, "incompatible"),
        (lambda m: m.update(format_version=1), TEST_SIGNING_KEY, "incompatible"),
    ],
    ids=["tampered", "unsigned", "foreign-key", "old-sklearn", "old-format"],
)
def test_metadata_problems_are_refused_with_a_reason(models_dir, change, resign_with, reason):
    version = _publish(models_dir, 1)
    _rewrite_metadata(models_dir, version, change, resign_with=resign_with)
    with pytest.raises(artifacts.ArtifactError) as err:
        _load(models_dir, version)
    assert err.value.reason == reason
    with pytest.raises(artifacts.ArtifactError):
        artifacts.verify(models_dir, version, signing_key=TEST_SIGNING_KEY)


def test_a_signed_version_copied_under_another_name_is_refused(models_dir):
    version = _publish(models_dir, 1)
    other = "20200101T000000.000000Z-abcdef"
    shutil.copytree(models_dir / "versions" / version, models_dir / "versions" / other)
    with pytest.raises(artifacts.ArtifactError) as err:
        _load(models_dir, other)
    assert err.value.reason == "wrong_version"


@pytest.mark.parametrize("version", ["20200101T000000.000000Z-abcdef", "../etc", "current"])
def test_a_missing_version_is_reported_as_vanished(models_dir, version):
    _publish(models_dir, 1)
    with pytest.raises(artifacts.VersionVanished):
        _load(models_dir, version)


def test_pruning_keeps_the_newest_versions(models_dir):
    published = [_publish(models_dir, n, keep=2) for n in range(5)]
    remaining = [m["version"] for m in artifacts.list_versions(models_dir)]
    assert remaining == published[:2:-1]


def test_pruning_never_deletes_the_current_version(models_dir):
    first, second, third = (_publish(models_dir, n) for n in range(3))
    # Roll back: point current at the oldest version, then prune hard.
    (models_dir / "rollback").symlink_to(f"versions/{first}")
    os.replace(models_dir / "rollback", models_dir / "current")
    deleted = artifacts.prune(models_dir, keep=1)
    assert deleted == [second]
    assert {m["version"] for m in artifacts.list_versions(models_dir)} == {first, third}
    assert _load(models_dir, first).model["token"] == 0


def test_stale_staging_leftovers_are_swept(models_dir):
    _publish(models_dir, 1)
    leftover = models_dir / "tmp" / "publish-crashed"
    leftover.mkdir()
    os.utime(leftover, (0, 0))
    _publish(models_dir, 2)
    assert not leftover.exists()


def test_readers_never_see_a_mismatched_pair_while_publishing(models_dir):
    """A reader resolving `current` over and over while a writer publishes and prunes."""
    _publish(models_dir, 0, keep=2)
    stop = threading.Event()
    seen_by_reader: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def read_repeatedly(seen_tokens: list[int]):
        try:
            while not stop.is_set():
                version = artifacts.current_version(models_dir)
                try:
                    loaded = _load(models_dir, version)
                except artifacts.VersionVanished:
                    continue  # pruned between readlink and read: resolve again
                assert loaded.model["token"] == loaded.vectorizer["token"]
                assert loaded.metadata["job_id"] == str(loaded.model["token"])
                assert loaded.metadata["version"] == version
                seen_tokens.append(loaded.model["token"])
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read_repeatedly, args=(seen,)) for seen in seen_by_reader]
    for reader in readers:
        reader.start()
    try:
        for token in range(1, 60):
            _publish(models_dir, token, keep=2, payload_size=200_000)
    finally:
        stop.set()
        for reader in readers:
            reader.join()

    assert errors == []
    for seen_tokens in seen_by_reader:
        assert len(set(seen_tokens)) > 1  # the reader really raced the writer
        assert seen_tokens == sorted(seen_tokens)  # `current` only moves forward
    assert len(artifacts.list_versions(models_dir)) == 2


# --- writers: fencing, lease, lock, a full disk, activation ------------------------------------


def test_a_run_with_an_older_fence_cannot_publish_over_a_newer_one(models_dir):
    newer = _publish(models_dir, 2, fence=7)
    with pytest.raises(artifacts.Superseded, match="superseded by a newer training"):
        _publish(models_dir, 1, fence=5)
    assert artifacts.current_version(models_dir) == newer
    assert artifacts.published_fence(models_dir) == 7
    assert [m["version"] for m in artifacts.list_versions(models_dir)] == [newer]
    assert list((models_dir / "tmp").iterdir()) == []


def test_the_fence_file_only_moves_forward(models_dir):
    _publish(models_dir, 1, fence=3)
    _publish(models_dir, 2, fence=4)
    assert artifacts.published_fence(models_dir) == 4
    assert _load(models_dir, artifacts.current_version(models_dir)).metadata["fence"] == 4


def test_a_run_that_lost_its_lease_publishes_nothing(models_dir):
    current = _publish(models_dir, 1, fence=1)
    with pytest.raises(artifacts.LeaseLost):
        _publish(models_dir, 2, fence=2, still_leased=lambda: False)
    assert artifacts.current_version(models_dir) == current
    assert list((models_dir / "tmp").iterdir()) == []


def _lock_is_free(models_dir) -> bool:
    fd = os.open(models_dir / ".publish.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_the_lease_is_checked_while_holding_the_publish_lock(models_dir):
    lock_free_during_check = []

    def lease_check():
        lock_free_during_check.append(_lock_is_free(models_dir))
        return True

    _publish(models_dir, 1, fence=1, still_leased=lease_check)
    assert lock_free_during_check == [False]
    assert _lock_is_free(models_dir)


def test_publishing_waits_for_the_lock(models_dir):
    first = _publish(models_dir, 1)
    published = []
    with artifacts.publish_lock(models_dir):
        writer = threading.Thread(target=lambda: published.append(_publish(models_dir, 2)))
        writer.start()
        writer.join(timeout=1)
        assert artifacts.current_version(models_dir) == first  # still waiting for the lock
    writer.join()
    assert artifacts.current_version(models_dir) == published[0]


def test_a_full_disk_leaves_current_untouched(models_dir, monkeypatch):
    current = _publish(models_dir, 1)
    real_write = artifacts._write_file

    def write_until_full(path, data):
        real_write(path, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "_write_file", write_until_full)
    with pytest.raises(OSError, match="No space left") as err:
        _publish(models_dir, 2)
    assert err.value.errno == errno.ENOSPC
    assert artifacts.current_version(models_dir) == current
    assert [m["version"] for m in artifacts.list_versions(models_dir)] == [current]
    assert list((models_dir / "tmp").iterdir()) == []


ENOSPC_SCRIPT = """
import errno, json, os, sys
from pathlib import Path
from mlservice.store import artifacts
models_dir = Path(sys.argv[1])
small = artifacts.publish(models_dir, model={"m": 1}, vectorizer={"v": 1}, metadata={}, keep=5,
                          signing_key="k")
try:
    artifacts.publish(models_dir, model={"m": os.urandom(2_000_000)}, vectorizer={"v": 2},
                      metadata={}, keep=5, signing_key="k")
    outcome = "published"
except OSError as exc:
    outcome = errno.errorcode.get(exc.errno, str(exc.errno))
print(json.dumps({
    "outcome": outcome,
    "before": small,
    "current": artifacts.current_version(models_dir),
    "versions": [m["version"] for m in artifacts.list_versions(models_dir)],
    "staging": os.listdir(models_dir / "tmp"),
}))
"""


def test_a_real_full_tmpfs_leaves_current_untouched(tmp_path):
    """The same on a 1 MiB tmpfs, mounted in a private mount namespace (root only)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare")
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    script = tmp_path / "fill.py"
    script.write_text(ENOSPC_SCRIPT)
    result = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f'mount -t tmpfs -o size=1m tmpfs "{models_dir}" && exec "$0" "$@"',
            sys.executable,
            str(script),
            str(models_dir),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ALGORITHM_DIR)},
        timeout=60,
    )
    if result.returncode != 0 and "mount" in result.stderr + result.stdout:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "ENOSPC"
    assert report["current"] == report["before"]
    assert report["versions"] == [report["before"]]
    assert report["staging"] == []


def test_activate_points_current_at_a_kept_version(models_dir):
    older = _publish(models_dir, 1)
    newer = _publish(models_dir, 2)
    artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    assert artifacts.current_version(models_dir) == older
    assert _load(models_dir, older).model["token"] == 1
    artifacts.activate(models_dir, newer, signing_key=TEST_SIGNING_KEY)
    assert artifacts.current_version(models_dir) == newer


def test_activate_refuses_a_tampered_version(models_dir):
    older = _publish(models_dir, 1)
    newer = _publish(models_dir, 2)
    _rewrite_metadata(models_dir, older, lambda m: m.update(n_samples=5))
    with pytest.raises(artifacts.ArtifactError):
        artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    assert artifacts.current_version(models_dir) == newer


def test_publish_and_activate_move_last_good_with_current(models_dir):
    older = _publish(models_dir, 1)
    assert artifacts.last_good_version(models_dir) == older
    newer = _publish(models_dir, 2)
    assert artifacts.last_good_version(models_dir) == newer
    assert os.readlink(models_dir / "last_good") == f"versions/{newer}"
    artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    assert artifacts.last_good_version(models_dir) == artifacts.current_version(models_dir) == older


def test_a_refused_activation_leaves_last_good_alone(models_dir):
    older = _publish(models_dir, 1)
    newer = _publish(models_dir, 2)
    _rewrite_metadata(models_dir, older, lambda m: m.update(n_samples=5))
    with pytest.raises(artifacts.ArtifactError):
        artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    assert artifacts.last_good_version(models_dir) == newer


def test_pruning_never_deletes_the_last_good_version(models_dir):
    first, second, third = (_publish(models_dir, n) for n in range(3))
    artifacts.activate(models_dir, first, signing_key=TEST_SIGNING_KEY)
    (models_dir / "by-hand").symlink_to(f"versions/{second}")
    os.replace(models_dir / "by-hand", models_dir / "current")  # current moved, not activated
    assert artifacts.prune(models_dir, keep=0) == [third]
    assert {m["version"] for m in artifacts.list_versions(models_dir)} == {first, second}


def test_a_version_over_max_bytes_is_refused_from_its_sizes_before_anything_is_read(models_dir):
    version = _publish(models_dir, 1, payload_size=50_000)
    _metadata_file(models_dir, version).write_text("not even json")  # never read
    with pytest.raises(artifacts.ArtifactError) as refused:
        artifacts.verify(models_dir, version, signing_key=TEST_SIGNING_KEY, max_bytes=40_000)
    assert refused.value.reason == "too_large"
    assert "MODEL_MAX_BYTES=40,000" in str(refused.value)
    with pytest.raises(artifacts.ArtifactError) as refused:
        artifacts.activate(models_dir, version, signing_key=TEST_SIGNING_KEY, max_bytes=40_000)
    assert refused.value.reason == "too_large"


def test_a_version_within_max_bytes_loads(models_dir):
    version = _publish(models_dir, 1, payload_size=50_000)
    size = sum(path.stat().st_size for path in (models_dir / "versions" / version).iterdir())
    loaded = artifacts.load(models_dir, version, signing_key=TEST_SIGNING_KEY, max_bytes=size)
    assert loaded.model["token"] == 1


def test_a_model_over_max_bytes_is_not_published(models_dir):
    current = _publish(models_dir, 1)
    with pytest.raises(artifacts.ModelTooLarge) as refused:
        _publish(models_dir, 2, payload_size=100_000, max_bytes=50_000)
    assert "MODEL_MAX_BYTES=50,000" in str(refused.value)
    assert "Nothing was published" in str(refused.value)
    assert artifacts.current_version(models_dir) == artifacts.last_good_version(models_dir)
    assert artifacts.current_version(models_dir) == current
    assert [m["version"] for m in artifacts.list_versions(models_dir)] == [current]
    assert list((models_dir / "tmp").iterdir()) == []


def test_listing_skips_oversized_metadata(models_dir):
    kept = _publish(models_dir, 1)
    bloated = _publish(models_dir, 2)
    with _metadata_file(models_dir, bloated).open("ab") as handle:
        handle.truncate(artifacts.MAX_METADATA_BYTES + 1)
    assert [m["version"] for m in artifacts.list_versions(models_dir)] == [kept]
