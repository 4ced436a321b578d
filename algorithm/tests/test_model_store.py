import json
import threading

import numpy as np

from mlservice import artifacts
from mlservice.model_store import ModelStore


def _publish(models_dir, trained_model, *, job_id="job"):
    return artifacts.publish(
        models_dir,
        model=trained_model.classifier,
        vectorizer=trained_model.vectorizer,
        metadata={"job_id": job_id, "labels": trained_model.labels},
        keep=5,
    )


def test_no_model_yet(models_dir):
    assert ModelStore(models_dir).current() is None


def test_the_current_model_is_loaded_once_and_kept_in_memory(models_dir, trained_model):
    version = _publish(models_dir, trained_model)
    store = ModelStore(models_dir)
    first = store.current()
    assert first.version == version
    assert first.predictor.labels == trained_model.labels
    assert store.current() is first  # same object: no unpickling per request


def test_a_new_version_is_picked_up_without_a_restart(models_dir, trained_model):
    _publish(models_dir, trained_model, job_id="first")
    store = ModelStore(models_dir)
    assert store.current().metadata["job_id"] == "first"
    newer = _publish(models_dir, trained_model, job_id="second")
    reloaded = store.current()
    assert reloaded.version == newer
    assert reloaded.metadata["job_id"] == "second"


def test_predictions_come_from_the_loaded_model(models_dir, trained_model):
    _publish(models_dir, trained_model)
    proba = ModelStore(models_dir).current().predictor.predict_proba(["a python library"])
    assert proba.shape == (1, len(trained_model.labels))
    np.testing.assert_allclose(proba.sum(), 1.0)


def test_a_broken_new_version_keeps_the_previous_model_serving(models_dir, trained_model):
    good = _publish(models_dir, trained_model)
    store = ModelStore(models_dir)
    assert store.current().version == good
    broken = _publish(models_dir, trained_model)
    metadata_file = models_dir / "versions" / broken / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata["sha256"]["model.pickle"] = "0" * 64
    metadata_file.write_text(json.dumps(metadata))
    assert store.current().version == good
    assert store.current().version == good  # rejected once, not re-read per request


def test_a_broken_first_version_means_no_model(models_dir, trained_model):
    version = _publish(models_dir, trained_model)
    (models_dir / "versions" / version / "vectorizer.pickle").write_bytes(b"garbage")
    assert ModelStore(models_dir).current() is None


def test_concurrent_requests_load_a_new_version_once(models_dir, trained_model, monkeypatch):
    _publish(models_dir, trained_model)
    loads = []
    real_load = artifacts.load

    def counting_load(*args, **kwargs):
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(artifacts, "load", counting_load)
    store = ModelStore(models_dir)
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
