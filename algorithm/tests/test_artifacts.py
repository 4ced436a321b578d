import hashlib
import json
import os
import threading

import pytest

from mlservice import artifacts


def _publish(models_dir, token, *, keep=5, payload_size=1000):
    # Model and vectorizer carry the same token, so a reader can tell a mismatched pair.
    return artifacts.publish(
        models_dir,
        model={"token": token, "payload": os.urandom(payload_size)},
        vectorizer={"token": token},
        metadata={"job_id": str(token), "n_samples": token},
        keep=keep,
    )


def test_no_model_before_the_first_publish(models_dir):
    assert artifacts.current_version(models_dir) is None
    assert artifacts.list_versions(models_dir) == []


def test_publish_then_load_round_trips(models_dir):
    version = _publish(models_dir, 1)
    assert artifacts.VERSION_PATTERN.match(version)
    assert artifacts.current_version(models_dir) == version
    loaded = artifacts.load(models_dir, version)
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


def test_a_tampered_pickle_is_refused(models_dir):
    version = _publish(models_dir, 1)
    model_file = models_dir / "versions" / version / "model.pickle"
    model_file.write_bytes(model_file.read_bytes()[:-1] + b"\x00")
    with pytest.raises(artifacts.ArtifactError, match="does not match its sha256"):
        artifacts.load(models_dir, version)


def test_a_model_from_another_scikit_learn_is_refused(models_dir):
    version = _publish(models_dir, 1)
    metadata_file = models_dir / "versions" / version / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata["sklearn_version"] = "0.24.2"
    metadata_file.write_text(json.dumps(metadata))
    with pytest.raises(artifacts.ArtifactError, match="Retrain"):
        artifacts.load(models_dir, version)


def test_a_missing_version_is_reported_as_vanished(models_dir):
    _publish(models_dir, 1)
    with pytest.raises(artifacts.VersionVanished):
        artifacts.load(models_dir, "20200101T000000.000000Z-abcdef")


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
    assert artifacts.load(models_dir, first).model["token"] == 0


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
                    loaded = artifacts.load(models_dir, version)
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
