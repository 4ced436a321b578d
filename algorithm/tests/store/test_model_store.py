import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from mlservice.store import artifacts
from mlservice.store.model_store import ModelStore
from tests.support import TEST_SIGNING_KEY, publish_trained


def _store(models_dir) -> ModelStore:
    return ModelStore(models_dir, signing_key=TEST_SIGNING_KEY)


def test_no_model_yet(models_dir):
    assert _store(models_dir).current() is None


def test_the_current_model_is_loaded_once_and_kept_in_memory(models_dir, trained_model):
    version = publish_trained(models_dir, trained_model)
    store = _store(models_dir)
    first = store.current()
    assert first.version == version
    assert first.predictor.labels == trained_model.labels
    assert store.current() is first  # same object: no unpickling per request


def test_a_new_version_is_picked_up_without_a_restart(models_dir, trained_model):
    publish_trained(models_dir, trained_model, job_id="first")
    store = _store(models_dir)
    assert store.current().metadata["job_id"] == "first"
    newer = publish_trained(models_dir, trained_model, job_id="second")
    reloaded = store.current()
    assert reloaded.version == newer
    assert reloaded.metadata["job_id"] == "second"


def test_predictions_come_from_the_loaded_model(models_dir, trained_model):
    publish_trained(models_dir, trained_model)
    proba = _store(models_dir).current().predictor.predict_proba(["a python library"])
    assert proba.shape == (1, len(trained_model.labels))
    np.testing.assert_allclose(proba.sum(), 1.0)


def _tamper_metadata(models_dir, version):
    path = models_dir / "versions" / version / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["metrics"]["accuracy"] = 0.999
    path.write_text(json.dumps(metadata))


def _tamper_pickle(models_dir, version):
    (models_dir / "versions" / version / "model.pickle").write_bytes(b"evil pickle")


def _unsign(models_dir, version):
    path = models_dir / "versions" / version / "metadata.json"
    metadata = json.loads(path.read_text())
    del metadata["signature"]
    path.write_text(json.dumps(metadata))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_tamper_pickle, "sha256"),
        (_tamper_metadata, "signature is invalid"),
        (_unsign, "not signed"),
    ],
    ids=["pickle", "metadata", "unsigned"],
)
def test_a_refused_new_version_keeps_the_previous_model_serving(
    models_dir, trained_model, tamper, reason
):
    good = publish_trained(models_dir, trained_model)
    store = _store(models_dir)
    assert store.current().version == good
    bad = publish_trained(models_dir, trained_model)
    tamper(models_dir, bad)
    assert store.current().version == good
    assert store.current().version == good  # refused once, not re-read per request
    assert bad in store.error()
    assert reason in store.error()
    assert store.current().predictor.predict_proba(["still serving"]).shape[0] == 1


def test_the_error_clears_once_current_moves_to_a_good_version(models_dir, trained_model):
    store = _store(models_dir)
    bad = publish_trained(models_dir, trained_model)
    _unsign(models_dir, bad)
    assert store.current() is None
    assert "not signed" in store.error()
    good = publish_trained(models_dir, trained_model)
    assert store.current().version == good
    assert store.error() is None


def test_a_model_signed_with_another_key_is_not_served(models_dir, trained_model):
    publish_trained(models_dir, trained_model)
    store = ModelStore(models_dir, signing_key="a different key")
    assert store.current() is None
    assert "signature is invalid" in store.error()


def test_concurrent_requests_load_a_new_version_once(models_dir, trained_model, monkeypatch):
    publish_trained(models_dir, trained_model)
    loads = []
    real_load = artifacts.load

    def counting_load(*args, **kwargs):
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(artifacts, "load", counting_load)
    store = _store(models_dir)
    versions = []
    threads = [
        threading.Thread(target=lambda: versions.append(store.current().version)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(set(versions)) == 1


def test_a_fresh_process_serves_the_newest_good_version_when_current_is_refused(
    models_dir, trained_model
):
    older = publish_trained(models_dir, trained_model, job_id="older")
    good = publish_trained(models_dir, trained_model, job_id="good")
    bad = publish_trained(models_dir, trained_model, job_id="bad")
    _tamper_pickle(models_dir, bad)
    store = _store(models_dir)  # e.g. a gunicorn worker started after the tampering
    assert store.current().version == good != older
    assert bad in store.error()
    assert store.current().version == good  # refused once, not re-read per request


def _point_current_by_hand(models_dir, version):
    """Move `current` the way an intruder or a hand-made link would: not through a publish or
    an activation, so `last_good` stays where it was."""
    link = models_dir / "tmp" / "by-hand"
    link.symlink_to(f"versions/{version}")
    os.replace(link, models_dir / "current")


def test_every_process_serves_the_last_good_version_whatever_it_held_before(
    models_dir, trained_model
):
    """The chaos suite's finding: a worker that saw no request since the last good version went
    live still held an older one, and served it once `current` was refused."""
    victim = publish_trained(models_dir, trained_model, job_id="victim")
    older = publish_trained(models_dir, trained_model, job_id="older")
    good = publish_trained(models_dir, trained_model, job_id="good")
    artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    stale = _store(models_dir)
    assert stale.current().version == older  # then sees no request for a while
    artifacts.activate(models_dir, good, signing_key=TEST_SIGNING_KEY)
    busy = _store(models_dir)
    assert busy.current().version == good

    _tamper_pickle(models_dir, victim)
    _point_current_by_hand(models_dir, victim)
    fresh = _store(models_dir)  # started (or recycled) after the tampering
    for store in (stale, busy, fresh):
        assert store.current().version == good
        assert store.current().metadata["job_id"] == "good"
        assert victim in store.error()
        assert "sha256" in store.error()


def test_the_last_good_version_wins_over_a_newer_kept_one(models_dir, trained_model):
    """Staff switched back to an older version; a tampered `current` must not bring back the
    newer one they left."""
    good = publish_trained(models_dir, trained_model, job_id="good")
    newer = publish_trained(models_dir, trained_model, job_id="newer")
    victim = publish_trained(models_dir, trained_model, job_id="victim")
    artifacts.activate(models_dir, good, signing_key=TEST_SIGNING_KEY)
    _unsign(models_dir, victim)
    _point_current_by_hand(models_dir, victim)
    assert artifacts.last_good_version(models_dir) == good
    assert _store(models_dir).current().version == good != newer


def test_without_a_usable_last_good_every_process_serves_the_newest_that_verifies(
    models_dir, trained_model
):
    older = publish_trained(models_dir, trained_model, job_id="older")
    good = publish_trained(models_dir, trained_model, job_id="good")
    bad = publish_trained(models_dir, trained_model, job_id="bad")  # also the last good one
    holding_older = _store(models_dir)
    artifacts.activate(models_dir, older, signing_key=TEST_SIGNING_KEY)
    assert holding_older.current().version == older
    _point_current_by_hand(models_dir, bad)
    _tamper_pickle(models_dir, bad)
    (models_dir / "last_good").unlink()  # e.g. versions published before the pointer existed
    for store in (holding_older, _store(models_dir)):
        assert store.current().version == good


def test_when_nothing_verifies_no_process_serves_anything(models_dir, trained_model):
    good = publish_trained(models_dir, trained_model)
    holding = _store(models_dir)
    assert holding.current().version == good
    bad = publish_trained(models_dir, trained_model)
    _tamper_pickle(models_dir, good)
    _tamper_pickle(models_dir, bad)
    for store in (holding, _store(models_dir)):
        assert store.current() is None
        assert bad in store.error()


def test_a_version_larger_than_model_max_bytes_is_refused_before_it_is_read(
    models_dir, trained_model, monkeypatch
):
    good = publish_trained(models_dir, trained_model, job_id="good")
    big = publish_trained(models_dir, trained_model, job_id="big")
    (models_dir / "versions" / big / "model.pickle").open("ab").truncate(10_000_000)
    limit = sum(f.stat().st_size for f in (models_dir / "versions" / good).iterdir()) + 1
    store = ModelStore(models_dir, signing_key=TEST_SIGNING_KEY, max_bytes=limit)
    read = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: read.append(p) or real_read_bytes(p))
    # `last_good` is the big one itself (it was published): the newest other one that verifies.
    assert store.current().version == good
    assert not [path for path in read if big in str(path) and path.suffix == ".pickle"]
    assert "MODEL_MAX_BYTES" in store.error()


def test_a_moved_last_good_pointer_is_followed(models_dir, trained_model):
    first = publish_trained(models_dir, trained_model, job_id="first")
    second = publish_trained(models_dir, trained_model, job_id="second")
    victim = publish_trained(models_dir, trained_model, job_id="victim")
    artifacts.activate(models_dir, first, signing_key=TEST_SIGNING_KEY)
    _unsign(models_dir, victim)
    _point_current_by_hand(models_dir, victim)
    store = _store(models_dir)
    assert store.current().version == first
    with artifacts.publish_lock(models_dir):
        artifacts._point_link(models_dir, artifacts.LAST_GOOD_LINK, second)
    assert store.current().version == second
