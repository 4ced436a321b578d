import pytest

pytestmark = pytest.mark.django_db

URL = "/api/models/"
MODELS = {
    "current": "20261127T010203Z-3fa2c1",
    "results": [
        {
            "version": "20261127T010203Z-3fa2c1",
            "created_at": "2026-11-27T01:02:03Z",
            "n_samples": 100,
            "labels": ["editors", "libs"],
            "metrics": {"accuracy": 0.9},
            "parameters": {"classifier": "linear_svc"},
            "current": True,
        }
    ],
}


def test_models_are_relayed(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", json=MODELS)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == MODELS


def test_ml_service_error_is_503(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", status=500, body="Internal Server Error")

    assert api_client.get(URL).status_code == 503


def test_anonymous_is_401(anonymous_client, ml_service):
    assert anonymous_client.get(URL).status_code == 401
