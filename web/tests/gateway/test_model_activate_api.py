import json

import pytest

pytestmark = pytest.mark.django_db

VERSION = "20261127T010203Z-3fa2c1"
URL = f"/api/models/{VERSION}/activate/"


def test_staff_can_activate_a_kept_version(staff_client, ml_service, ml_url):
    ml_service.post(f"{ml_url}/models/{VERSION}/activate", json={"current": VERSION})

    response = staff_client.post(URL)

    assert response.status_code == 200
    assert response.json() == {"current": VERSION}
    assert ml_service.calls[0].headers["X-Service-Token"] == "test-ml-service-token"


def test_an_unknown_version_is_the_services_404(staff_client, ml_service, ml_url):
    body = {"detail": "Unknown model version."}
    ml_service.post(f"{ml_url}/models/{VERSION}/activate", json=body, status=404)

    response = staff_client.post(URL)

    assert response.status_code == 404
    assert response.json() == body


def test_a_switch_not_applied_in_time_is_503(staff_client, ml_service, ml_url):
    ml_service.post(
        f"{ml_url}/models/{VERSION}/activate",
        json={"detail": "The worker did not switch the model in time."},
        status=503,
    )

    response = staff_client.post(URL)

    assert response.status_code == 503
    assert "detail" in response.json()


def test_ml_service_down_is_503(staff_client, settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    assert staff_client.post(URL).status_code == 503


def test_non_staff_users_are_403_and_nothing_is_sent(api_client, ml_service):
    response = api_client.post(URL)

    assert response.status_code == 403
    assert "detail" in response.json()
    assert len(ml_service.calls) == 0


def test_anonymous_is_401(anonymous_client, ml_service):
    response = anonymous_client.post(URL)

    assert response.status_code == 401
    assert len(ml_service.calls) == 0


@pytest.mark.parametrize("version", ["..", ".hidden", "a/b", "x" * 101, "v%2F..%2Fx", "ü"])
def test_a_malformed_version_is_404_without_calling_the_service(staff_client, ml_service, version):
    response = staff_client.post(f"/api/models/{version}/activate/")

    assert response.status_code == 404
    assert len(ml_service.calls) == 0


def test_a_body_is_rejected_before_calling_the_service(staff_client, ml_service):
    response = staff_client.post(
        URL, data=json.dumps({"version": "other"}), content_type="application/json"
    )

    assert response.status_code == 400
    assert len(ml_service.calls) == 0


def test_only_post_is_allowed(staff_client, ml_service):
    assert staff_client.get(URL).status_code == 405
