"""A database that refuses connections is a fast 503 with a detail, not a 500 or a hang."""

import pytest
from django.db import connection


@pytest.fixture
def database_down(closed_port):
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port
    yield
    connection.close()
    connection.settings_dict["PORT"] = original_port


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/api/data/"), ("post", "/api/data/"), ("get", "/api/auth/check/")],
)
def test_database_down_is_503(api_client, database_down, method, url):
    response = getattr(api_client, method)(url, {"text": "t", "label": "l"})

    assert response.status_code == 503
    assert response.json() == {"detail": "The database is unavailable; try again shortly."}


@pytest.mark.django_db(transaction=True)
def test_liveness_stays_up_while_the_database_is_down(anonymous_client, database_down):
    assert anonymous_client.get("/api/health/live").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", ["/api/health/ready", "/api/health/"])
def test_readiness_is_503_while_the_database_is_down(anonymous_client, database_down, url):
    response = anonymous_client.get(url)

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "detail": "The database is unavailable; try again shortly.",
    }
