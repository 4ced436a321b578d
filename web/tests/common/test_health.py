import pytest


def test_liveness_needs_no_token_and_no_database(anonymous_client):
    response = anonymous_client.get("/api/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/health/ready", "/api/health/"])
def test_readiness_reports_the_database(anonymous_client, url):
    response = anonymous_client.get(url)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/health/live", "/api/health/ready"])
def test_health_ignores_a_bad_token(anonymous_client, url):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token stale")

    assert anonymous_client.get(url).status_code == 200
