from mlservice import artifacts


def test_health_without_a_model(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "model_version": None}


def test_health_names_the_current_model(client, models_dir, trained_model):
    version = artifacts.publish(
        models_dir,
        model=trained_model.classifier,
        vectorizer=trained_model.vectorizer,
        metadata={},
        keep=5,
    )
    assert client.get("/health").get_json() == {"status": "ok", "model_version": version}


def test_health_needs_neither_database_nor_broker(settings, tmp_path):
    from dataclasses import replace

    from mlservice import create_app

    dead = replace(
        settings,
        database_url="postgresql://postgres@127.0.0.1:1/none",
        celery_broker_url="redis://127.0.0.1:1/0",
    )
    assert create_app(dead).test_client().get("/health").status_code == 200
