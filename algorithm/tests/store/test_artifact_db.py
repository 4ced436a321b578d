"""Model versions in Postgres and the follower that copies them into each MODELS_DIR, against the
real test database (as the least-privilege role the API and the worker use)."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from mlservice import create_app
from mlservice.store import artifact_db, artifacts
from mlservice.store.model_store import ModelStore
from tests.support import TEST_SIGNING_KEY, authenticated


def signed(trained, **metadata):
    return artifacts.signed_files(
        model=trained.classifier,
        vectorizer=trained.vectorizer,
        metadata={"job_id": "test-job", "labels": trained.labels, **metadata},
        signing_key=TEST_SIGNING_KEY,
    )


@pytest.fixture
def ml_conn(conn, ml_database_url):
    """The least-privilege role's connection (after `conn` emptied every table)."""
    with psycopg.connect(ml_database_url, autocommit=True) as connection:
        yield connection


def publish(conn, trained, *, keep=5, fence=None, **kwargs):
    version, files = signed(trained)
    artifact_db.publish(conn, version, files, keep=keep, fence=fence, **kwargs)
    return version


def test_publish_stores_the_version_and_points_at_it_in_one_transaction(ml_conn, trained_model):
    version = publish(ml_conn, trained_model, fence=3)

    assert artifact_db.read_pointer(ml_conn) == artifact_db.Pointer(version, version, 3)
    files = artifact_db.fetch(ml_conn, version)
    metadata = artifacts.verify_files(version, files, signing_key=TEST_SIGNING_KEY)
    assert metadata["version"] == version


def test_a_publish_notifies_listeners_at_commit(ml_conn, ml_database_url, trained_model):
    with psycopg.connect(ml_database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {artifact_db.CHANNEL}")
        version = publish(ml_conn, trained_model)
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert [note.payload for note in notes] == [version]


def test_an_older_fence_is_superseded_and_stores_nothing(ml_conn, trained_model):
    newer = publish(ml_conn, trained_model, fence=5)
    with pytest.raises(artifacts.Superseded):
        publish(ml_conn, trained_model, fence=4)
    assert artifact_db.kept_versions(ml_conn) == [newer]
    assert artifact_db.read_pointer(ml_conn).current == newer


def test_a_lost_lease_stores_nothing(ml_conn, trained_model):
    with pytest.raises(artifacts.LeaseLost):
        publish(ml_conn, trained_model, fence=1, still_leased=lambda: False)
    assert artifact_db.kept_versions(ml_conn) == []
    assert artifact_db.read_pointer(ml_conn).current is None


def test_old_versions_are_pruned_but_never_the_pointed_at_ones(ml_conn, trained_model):
    first = publish(ml_conn, trained_model)
    artifact_db.activate(ml_conn, first, signing_key=TEST_SIGNING_KEY)
    later = [publish(ml_conn, trained_model, keep=2) for _ in range(3)]
    # The last publish made itself current and last good: `first` is no longer spared.
    assert artifact_db.kept_versions(ml_conn) == later[::-1][:2]


def test_activate_refuses_a_version_that_does_not_verify(ml_conn, conn, trained_model):
    good = publish(ml_conn, trained_model)
    bad = publish(ml_conn, trained_model)
    artifact_db.activate(ml_conn, good, signing_key=TEST_SIGNING_KEY)
    conn.execute(
        "UPDATE model_version SET model = model || '\\x00'::bytea WHERE version = %s", [bad]
    )

    with pytest.raises(artifacts.ArtifactError) as refused:
        artifact_db.activate(ml_conn, bad, signing_key=TEST_SIGNING_KEY)
    assert refused.value.reason == "checksum_mismatch"
    assert artifact_db.read_pointer(ml_conn).current == good
    with pytest.raises(artifacts.VersionVanished):
        artifact_db.activate(ml_conn, "20990101T000000.000000Z-abcdef", signing_key="k")


def test_sync_copies_versions_and_pointers_and_removes_what_is_gone(
    ml_conn, trained_model, tmp_path
):
    node = tmp_path / "node-models"
    first = publish(ml_conn, trained_model, keep=1)
    artifact_db.sync(ml_conn, node)
    assert artifacts.current_version(node) == first

    second = publish(ml_conn, trained_model, keep=1)
    _, copied = artifact_db.sync(ml_conn, node)

    assert copied == [second]
    assert artifacts.current_version(node) == second
    assert artifacts.last_good_version(node) == second
    assert artifacts.local_versions(node) == [second]  # `first` was pruned from the database
    loaded = artifacts.load(node, second, signing_key=TEST_SIGNING_KEY)
    assert loaded.metadata["version"] == second


def test_a_version_another_process_installed_meanwhile_is_still_pointed_at(
    ml_conn, trained_model, tmp_path, monkeypatch
):
    """The worker and the API's processes share one volume in compose: when another one
    installed the version while this sync was copying it, install() returns False. The waiting
    candidate's link was then removed (and shadow scoring never started) because the sync
    trusted only what it had copied itself."""
    shared = tmp_path / "shared-models"
    production = publish(ml_conn, trained_model)
    artifact_db.sync(ml_conn, shared)
    candidate = publish(ml_conn, trained_model, promote=False)
    real_install = artifacts.install

    def another_process_first(models_dir, version, files):
        real_install(models_dir, version, files)  # the other process wins the rename
        return real_install(models_dir, version, files)

    monkeypatch.setattr(artifacts, "install", another_process_first)
    _, copied = artifact_db.sync(ml_conn, shared)

    assert copied == []
    assert artifacts.candidate_version(shared) == candidate
    assert artifacts.current_version(shared) == production


def test_sync_leaves_a_directory_alone_while_nothing_was_published(
    ml_conn, tmp_path, model_version, models_dir
):
    artifact_db.sync(ml_conn, models_dir)
    assert artifacts.current_version(models_dir) == model_version
    assert artifacts.local_versions(models_dir) == [model_version]


def test_a_replica_serves_the_last_good_version_when_current_does_not_verify(
    ml_conn, conn, trained_model, tmp_path
):
    node = tmp_path / "node-models"
    good = publish(ml_conn, trained_model)
    tampered_version, files = signed(trained_model)
    metadata = json.loads(files[artifacts.METADATA_FILE])
    metadata["labels"] = ["forged"]
    files[artifacts.METADATA_FILE] = json.dumps(metadata).encode()
    # Someone with write access to the table moves `current` alone, past the worker's checks.
    conn.execute(
        "INSERT INTO model_version (version, metadata, model, vectorizer) VALUES (%s, %s, %s, %s)",
        [tampered_version, *(files[name] for name in artifacts.FILES)],
    )
    conn.execute("UPDATE model_pointer SET current = %s", [tampered_version])

    artifact_db.sync(ml_conn, node)
    store = ModelStore(node, signing_key=TEST_SIGNING_KEY)
    served = store.current()

    assert artifacts.current_version(node) == tampered_version
    assert served is not None
    assert served.version == good
    assert "signature is invalid" in store.error()


def test_every_api_process_follows_a_publish_within_seconds(
    ml_conn, trained_model, settings, tmp_path
):
    """Two API apps with MODELS_DIRs of their own (two nodes) serve the same new version."""
    first = publish(ml_conn, trained_model)
    nodes = []
    for name in ("node-a", "node-b"):
        node_settings = settings.replace(models_dir=tmp_path / name, model_sync_seconds=0.5)
        app = create_app(node_settings)
        client = authenticated(app.test_client())
        assert client.get("/models").status_code == 200  # the first request starts the follower
        follower = app.extensions["model_follower"]
        assert follower.wait_synced(10)
        nodes.append((client, follower))
    try:
        assert [_predicted_version(client) for client, _ in nodes] == [first, first]

        second = publish(ml_conn, trained_model)
        deadline = time.monotonic() + 10
        served = []
        while time.monotonic() < deadline:
            served = [_predicted_version(client) for client, _ in nodes]
            if served == [second, second]:
                break
            time.sleep(0.1)
        assert served == [second, second]
    finally:
        for _, follower in nodes:
            follower.stop()


def _predicted_version(client) -> str | None:
    response = client.post("/predict", json={"text": "a library for parsing XML files"})
    return response.get_json().get("model_version")


def test_the_ml_role_cannot_rewrite_a_stored_version(ml_conn, trained_model):
    version = publish(ml_conn, trained_model)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        ml_conn.execute("UPDATE model_version SET model = ''::bytea WHERE version = %s", [version])
