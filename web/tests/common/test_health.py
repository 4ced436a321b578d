import pytest


def test_health_needs_no_token_and_no_database(anonymous_client):
    response = anonymous_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_health_ignores_a_bad_token(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token stale")

    assert anonymous_client.get("/api/health/").status_code == 200
