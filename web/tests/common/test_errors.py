"""Errors outside a view's own validation still answer JSON with a detail."""

import json

import pytest
from django.test import RequestFactory

from common import error_views

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/nope/", "/api/data/1/extra/", "/api/train/not-a-uuid/"])
def test_unknown_api_url_is_404_json(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_method_not_allowed_is_405_json(api_client):
    response = api_client.put("/api/health/")

    assert response.status_code == 405
    assert "detail" in response.json()


def test_server_error_handler_answers_json():
    response = error_views.server_error(RequestFactory().get("/api/data/"))

    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Internal server error."}


def test_disallowed_host_is_400_json(client):
    response = client.get("/api/health/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_admin_keeps_html_error_pages(admin_client):
    response = admin_client.get("/admin/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("accept", ["application/xml", "Z~E5", "text/csv;q=1"])
def test_an_unsatisfiable_accept_header_still_gets_json(api_client, accept):
    response = api_client.get("/api/data/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
