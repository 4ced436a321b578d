import base64
import json

import pytest
import redis

from mlservice import create_app, db
from mlservice.store import artifact_db, artifacts
from tests.support import authenticated, publish_trained


def _publish(models_dir, trained_model, job_id):
    return publish_trained(models_dir, trained_model, job_id=job_id)


def test_no_models_yet(client):
    assert client.get("/models").get_json() == {"current": None, "results": []}


def test_models_lists_versions_newest_first_and_flags_current(client, models_dir, trained_model):
    older = _publish(models_dir, trained_model, "a")
    newer = _publish(models_dir, trained_model, "b")
    response = client.get("/models")
    assert response.status_code == 200
    body = response.get_json()
    assert body["current"] == newer
    assert [m["version"] for m in body["results"]] == [newer, older]
    assert [m["current"] for m in body["results"]] == [True, False]
    latest = body["results"][0]
    assert latest["n_samples"] == 1500
    assert latest["labels"] == trained_model.labels
    assert latest["metrics"] == trained_model.metrics
    assert latest["parameters"]["classifier"] == "linear_svc"
    assert latest["excluded_labels"] == trained_model.excluded_labels
    assert latest["created_at"].endswith("Z")


def test_a_versions_detail_has_its_recipes_and_per_label_quality(client, models_dir, trained_model):
    older = _publish(models_dir, trained_model, "a")
    _publish(models_dir, trained_model, "b")
    response = client.get(f"/models/{older}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == older
    assert body["current"] is False
    assert body["metrics"] == trained_model.metrics
    assert body["recipes"]["selected"] == trained_model.metrics["recipe"]
    assert body["evaluation"] == trained_model.evaluation
    some_label = trained_model.labels[0]
    assert set(body["evaluation"]["per_label"][some_label]) == {
        "precision",
        "recall",
        "f1",
        "support",
    }
    listed = client.get("/models").get_json()["results"][1]
    assert "evaluation" not in listed
    assert {k: v for k, v in body.items() if k in listed} == listed


@pytest.mark.parametrize("version", ["20200101T000000.000000Z-abcdef", "current", "not-a-version"])
def test_an_unknown_versions_detail_is_404(client, models_dir, trained_model, version):
    _publish(models_dir, trained_model, "a")
    response = client.get(f"/models/{version}")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Model version not found."}


# --- POST /models/<version>/activate (the worker side: worker/test_worker.py) ---------------------


def test_activating_the_current_version_needs_no_worker(client, models_dir, trained_model):
    version = _publish(models_dir, trained_model, "a")
    response = client.post(f"/models/{version}/activate")
    assert response.status_code == 200
    assert response.get_json() == {"current": version}


@pytest.mark.parametrize("version", ["20200101T000000.000000Z-abcdef", "not-a-version", "current"])
def test_activating_an_unknown_version_is_404(client, models_dir, trained_model, version):
    _publish(models_dir, trained_model, "a")
    response = client.post(f"/models/{version}/activate")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Model version not found."}


def test_a_tampered_version_cannot_be_activated(client, models_dir, trained_model):
    older = _publish(models_dir, trained_model, "a")
    newer = _publish(models_dir, trained_model, "b")
    (models_dir / "versions" / older / "vectorizer.pickle").write_bytes(b"evil")
    response = client.post(f"/models/{older}/activate")
    assert response.status_code == 409
    assert "sha256" in response.get_json()["detail"]
    assert client.get("/models").get_json()["current"] == newer


def test_a_version_over_model_max_bytes_cannot_be_activated(
    settings, conn, models_dir, trained_model
):
    older = _publish(models_dir, trained_model, "a")
    newer = _publish(models_dir, trained_model, "b")
    size = sum(path.stat().st_size for path in (models_dir / "versions" / older).iterdir())
    app = create_app(settings.replace(model_max_bytes=size - 1))
    client = authenticated(app.test_client())
    response = client.post(f"/models/{older}/activate")
    assert response.status_code == 409
    assert "MODEL_MAX_BYTES" in response.get_json()["detail"]
    assert client.get("/models").get_json()["current"] == newer


def test_activation_is_a_503_when_no_worker_switches_in_time(
    settings, conn, models_dir, trained_model
):
    older = _publish(models_dir, trained_model, "a")
    newer = _publish(models_dir, trained_model, "b")
    app = create_app(settings.replace(activate_timeout_seconds=0.3))
    app.extensions["celery"].control.purge()
    response = authenticated(app.test_client()).post(
        f"/models/{older}/activate", headers={"X-Request-ID": "rid-activate"}
    )
    assert response.status_code == 503
    assert "the current model is unchanged" in response.get_json()["detail"]
    assert artifacts.current_version(models_dir) == newer
    # The request went to the control queue, with the request id, and expires with the wait.
    (raw,) = redis.Redis.from_url(settings.celery_broker_url.get_secret_value()).lrange(
        "control", 0, -1
    )
    headers = json.loads(raw)["headers"]
    assert headers["task"] == "mlservice.activate_model"
    assert headers["request_id"] == "rid-activate"
    assert headers["expires"]
    app.extensions["celery"].control.purge()


def test_activation_is_a_503_without_the_broker(settings, conn, models_dir, trained_model):
    older = _publish(models_dir, trained_model, "a")
    _publish(models_dir, trained_model, "b")
    app = create_app(settings.replace(celery_broker_url="redis://127.0.0.1:1/0"))
    response = authenticated(app.test_client()).post(f"/models/{older}/activate")
    assert response.status_code == 503
    assert "not switched" in response.get_json()["detail"]


def test_activate_takes_no_body(client, models_dir, trained_model):
    version = _publish(models_dir, trained_model, "a")
    response = client.post(f"/models/{version}/activate", json={"force": True})
    assert response.status_code == 400


# --- stages: POST /models/<version>/promote and /rollback, GET /models/stage-changes -----------


def _stored(settings, trained_model, *, promote):
    """A version in Postgres (as a training stores it) and copied into MODELS_DIR."""
    version, files = artifacts.signed_files(
        model=trained_model.classifier,
        vectorizer=trained_model.vectorizer,
        metadata={"job_id": "t", "labels": trained_model.labels},
        signing_key=settings.model_signing_key.get_secret_value(),
    )
    with db.connect(settings) as conn:
        artifact_db.publish(
            conn, version, files, keep=5, promote=promote, actor="training job t", reason="r"
        )
        artifact_db.sync(conn, settings.models_dir)
    return version


def test_versions_are_listed_with_their_stage(client, settings, trained_model):
    production = _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    body = client.get("/models").get_json()
    assert body["current"] == production
    assert {m["version"]: m["stage"] for m in body["results"]} == {
        production: "production",
        candidate: "candidate",
    }
    detail = client.get(f"/models/{candidate}").get_json()
    assert detail["stage"] == "candidate"
    assert [(c["from_stage"], c["to_stage"]) for c in detail["stage_changes"]] == [
        (None, "candidate")
    ]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "A promote needs a reason."),
        ({"reason": "  "}, "A promote needs a reason."),
        ({"reason": 5}, "A promote needs a reason."),
        ({"reason": "x" * 501}, "reason is longer than 500 characters."),
    ],
)
def test_a_promotion_needs_a_reason(client, settings, trained_model, body, detail):
    _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    response = client.post(f"/models/{candidate}/promote", json=body)
    assert response.status_code == 400
    assert response.get_json()["detail"] == detail


def test_promote_takes_a_candidate_and_rollback_an_archived_version(
    client, settings, trained_model
):
    production = _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    response = client.post(f"/models/{production}/promote", json={"reason": "why"})
    assert response.status_code == 409
    assert response.get_json()["stage"] == "production"
    response = client.post(f"/models/{candidate}/rollback", json={"reason": "why"})
    assert response.status_code == 409
    assert response.get_json()["detail"] == (
        f"Model version {candidate} is candidate; a rollback takes an archived version."
    )
    unknown = "20200101T000000.000000Z-abcdef"
    assert client.post(f"/models/{unknown}/promote", json={"reason": "x"}).status_code == 404


def test_a_promotion_goes_to_the_worker_with_who_and_why(settings, conn, trained_model):
    _stored(settings, trained_model, promote=True)
    candidate = _stored(settings, trained_model, promote=False)
    app = create_app(settings.replace(activate_timeout_seconds=0.3))
    app.extensions["celery"].control.purge()
    response = authenticated(app.test_client()).post(
        f"/models/{candidate}/promote",
        json={"reason": "looks right"},
        headers={"X-Actor": "alice"},
    )
    assert response.status_code == 503  # no worker in this test
    (raw,) = redis.Redis.from_url(settings.celery_broker_url.get_secret_value()).lrange(
        "control", 0, -1
    )
    message = json.loads(raw)
    assert message["headers"]["task"] == "mlservice.activate_model"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [candidate]
    assert kwargs == {"actor": "alice", "reason": "promote: looks right", "expect": ["candidate"]}
    app.extensions["celery"].control.purge()


def test_stage_changes_are_listed_newest_first(client, settings, trained_model):
    first = _stored(settings, trained_model, promote=True)
    second = _stored(settings, trained_model, promote=True)
    results = client.get("/models/stage-changes").get_json()["results"]
    assert [(c["version"], c["from_stage"], c["to_stage"]) for c in results] == [
        (second, "candidate", "production"),
        (first, "production", "archived"),
        (second, None, "candidate"),
        (first, "candidate", "production"),
        (first, None, "candidate"),
    ]
    assert results[1]["reason"] == f"replaced by {second}: r"
    assert results[0]["created_at"].endswith("Z")
    one = client.get(f"/models/stage-changes?version={first}&limit=1").get_json()["results"]
    assert [(c["version"], c["to_stage"]) for c in one] == [(first, "archived")]
    assert client.get("/models/stage-changes?limit=0").status_code == 400
