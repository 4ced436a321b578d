"""Shadow scoring: a waiting candidate also scores sampled live predictions, off the answer's
path; its agreement with production is counted per label and shown on its record."""

import time

import pytest

from mlservice import create_app, db
from mlservice.store import artifact_db, artifacts
from tests.support import authenticated

TEXTS = ["a library for parsing XML files", "a 3D space shooter game", "PNG image tools"]


def _stored(settings, trained, *, promote):
    version, files = artifacts.signed_files(
        model=trained.classifier,
        vectorizer=trained.vectorizer,
        metadata={"job_id": "t", "labels": trained.labels},
        signing_key=settings.model_signing_key.get_secret_value(),
    )
    with db.connect(settings) as conn:
        artifact_db.publish(conn, version, files, keep=5, promote=promote)
        artifact_db.sync(conn, settings.models_dir)
    return version


@pytest.fixture
def shadow_app(settings, conn):
    app = create_app(settings.replace(shadow_share=1.0))
    app.config["TESTING"] = True
    return app


def test_the_waiting_candidate_scores_sampled_predictions(shadow_app, settings, trained_model):
    production = _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    assert artifacts.candidate_version(settings.models_dir) == candidate
    client = authenticated(shadow_app.test_client())

    answer = client.post("/predict", json={"texts": TEXTS}).get_json()
    shadow_app.extensions["shadow"].drain()

    assert answer["model_version"] == production
    (entry,) = client.get(f"/models/{candidate}").get_json()["shadow"]
    # The same model in both roles: it always agrees.
    assert entry["production_version"] == production
    assert (entry["scored"], entry["agreed"], entry["agreement"]) == (3, 3, 1.0)
    labels = [p["label"] for p in answer["predictions"]]
    assert sum(item["scored"] for item in entry["per_label"].values()) == 3
    assert set(entry["per_label"]) == set(labels)
    exported = client.get("/metrics").get_data(as_text=True)
    assert f'candidate_version="{candidate}"' in exported
    assert "ml_shadow_predictions_total" in exported


def test_no_candidate_waits_once_it_is_promoted(shadow_app, settings, trained_model):
    _stored(settings, trained_model, promote=False)
    promoted = _stored(settings, trained_model, promote=True)
    # The candidate is older than production: held back, not waiting.
    assert artifacts.candidate_version(settings.models_dir) is None
    client = authenticated(shadow_app.test_client())
    assert client.post("/predict", json={"text": TEXTS[0]}).get_json()["model_version"] == promoted
    shadow_app.extensions["shadow"].drain()
    assert client.get(f"/models/{promoted}").get_json()["shadow"] == []


def test_a_zero_share_scores_nothing(client, settings, trained_model):
    _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    app_settings = client.application.config["SETTINGS"]
    assert app_settings.shadow_share == 0.1
    client.application.extensions["shadow"]._share = 0.0
    client.post("/predict", json={"texts": TEXTS})
    client.application.extensions["shadow"].drain()
    assert client.get(f"/models/{candidate}").get_json()["shadow"] == []


def test_a_stream_of_predictions_is_recorded_in_a_few_flushes(
    shadow_app, settings, trained_model, monkeypatch
):
    """Each flush is a Postgres connection of its own: a steady stream of sampled predictions is
    recorded about once a second, not once per prediction (and nothing is lost)."""
    from mlservice.api import shadow

    flushes = []
    record = shadow.add_agreement
    monkeypatch.setattr(shadow, "add_agreement", lambda *a: (flushes.append(1), record(*a)))
    _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    client = authenticated(shadow_app.test_client())

    started = time.monotonic()
    for _ in range(40):
        client.post("/predict", json={"text": TEXTS[0]})
        time.sleep(0.01)  # live traffic: the scorer's queue empties between predictions
    seconds = time.monotonic() - started
    shadow_app.extensions["shadow"].drain()

    (entry,) = client.get(f"/models/{candidate}").get_json()["shadow"]
    assert entry["scored"] == 40
    # One flush when the stream starts, then one a second at most, and the drain's.
    assert len(flushes) <= seconds + 2, (len(flushes), seconds)
