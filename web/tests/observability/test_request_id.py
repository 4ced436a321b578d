import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_callers_request_id_is_echoed(api_client):
    response = api_client.get("/api/data/", HTTP_X_REQUEST_ID="nginx-abc.123_x")

    assert response["X-Request-ID"] == "nginx-abc.123_x"


def test_a_request_id_is_minted_when_absent(anonymous_client):
    first = anonymous_client.get("/api/health/live")["X-Request-ID"]
    second = anonymous_client.get("/api/health/live")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


# nginx's rule (textclf_ops.request_id): no colon either, as in the ML service.
@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "<script>", "a\tb", "trace:span"])
def test_a_malformed_request_id_is_replaced_not_echoed(anonymous_client, incoming):
    echoed = anonymous_client.get("/api/health/live", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_errors_carry_the_request_id_too(api_client):
    response = api_client.get("/api/nope/", HTTP_X_REQUEST_ID="rid-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "rid-404"


def test_the_request_id_is_forwarded_to_the_ml_service(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", json={"current": None, "results": []})

    response = api_client.get("/api/models/", HTTP_X_REQUEST_ID="rid-forwarded")

    assert response.status_code == 200
    assert ml_service.calls[0].headers["X-Request-ID"] == "rid-forwarded"


def test_a_minted_request_id_is_forwarded_as_echoed(api_client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", json={"current": None, "results": []})

    response = api_client.get("/api/models/")

    assert ml_service.calls[0].headers["X-Request-ID"] == response["X-Request-ID"]
