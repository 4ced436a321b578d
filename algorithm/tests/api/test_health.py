from dataclasses import replace

import pytest

from mlservice import create_app
from tests.support import publish_trained

DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def publish(models_dir, trained_model):
    return lambda: publish_trained(models_dir, trained_model)


def test_health_without_a_model(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "model_version": None}


def test_health_names_the_current_model(client, publish):
    version = publish()
    assert client.get("/health").get_json() == {"status": "ok", "model_version": version}


def test_liveness_needs_neither_database_nor_broker(settings):
    dead = replace(
        settings,
        database_url="postgresql://postgres@127.0.0.1:1/none",
        celery_broker_url=DEAD_BROKER,
    )
    client = create_app(dead).test_client()
    assert client.get("/health").status_code == 200
    live = client.get("/health/live")
    assert live.status_code == 200
    assert live.get_json() == {"status": "ok"}


def test_ready_with_a_broker_and_no_model(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "broker": "ok",
        "model_loaded": False,
        "model_version": None,
        "model_error": None,
    }


def test_ready_reports_the_loaded_model(client, publish):
    version = publish()
    body = client.get("/health/ready").get_json()
    assert body["model_loaded"] is True
    assert body["model_version"] == version
    assert body["model_error"] is None


def test_not_ready_without_the_broker(settings, publish):
    version = publish()
    client = create_app(replace(settings, celery_broker_url=DEAD_BROKER)).test_client()
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["broker"].startswith("unreachable")
    assert "Redis" in body["detail"]
    # Predictions don't need the broker: the model is still reported as served.
    assert body["model_loaded"] is True
    assert body["model_version"] == version


def test_ready_shows_why_the_current_model_is_not_served(client, publish, models_dir):
    good = publish()
    assert client.get("/health/ready").get_json()["model_version"] == good
    broken = publish()
    (models_dir / "versions" / broken / "model.pickle").write_bytes(b"tampered")
    body = client.get("/health/ready").get_json()
    assert body["model_loaded"] is True
    assert body["model_version"] == good  # the last good model keeps serving
    assert broken in body["model_error"]
    assert "sha256" in body["model_error"]
