import pytest

pytestmark = pytest.mark.django_db

VERSION = "20261127T010203Z-3fa2c1"
URL = f"/api/models/{VERSION}/"
DETAIL = {
    "version": VERSION,
    "created_at": "2026-11-27T01:02:03Z",
    "n_samples": 100,
    "labels": ["editors", "libs"],
    "metrics": {"accuracy": 0.9, "f1_macro": 0.85, "recipe": "word_punct"},
    "parameters": {"classifier": "linear_svc", "recipe": "word_punct"},
    "excluded_labels": {},
    "current": True,
    "recipes": {
        "selected": "word_punct",
        "metric": "f1_macro",
        "score": 0.85,
        "budget_seconds": 120.0,
        "note": None,
        "candidates": [],
    },
    "evaluation": {
        "per_label": {
            "editors": {"precision": 1.0, "recall": 0.8, "f1": 0.889, "support": 5},
            "libs": {"precision": 0.8, "recall": 1.0, "f1": 0.889, "support": 4},
        },
        "confusion_matrix": {"labels": ["editors", "libs"], "matrix": [[4, 1], [0, 4]]},
    },
}


def test_a_versions_detail_is_relayed(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models/{VERSION}", json=DETAIL)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == DETAIL


def test_an_unknown_version_is_the_services_404(api_client, ml_service, ml_url):
    body = {"detail": "Model version not found."}
    ml_service.get(f"{ml_url}/models/{VERSION}", json=body, status=404)

    response = api_client.get(URL)

    assert response.status_code == 404
    assert response.json() == body


@pytest.mark.parametrize("version", [".hidden", "a%2Fb", "x" * 101])
def test_a_malformed_version_never_reaches_the_service(api_client, ml_service, version):
    assert api_client.get(f"/api/models/{version}/").status_code == 404
    assert len(ml_service.calls) == 0


def test_the_ml_service_down_is_503(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models/{VERSION}", status=502, body="Bad Gateway")

    assert api_client.get(URL).status_code == 503


def test_anonymous_is_401(anonymous_client, ml_service):
    assert anonymous_client.get(URL).status_code == 401
