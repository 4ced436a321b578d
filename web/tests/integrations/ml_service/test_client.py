import pytest
import requests
import responses
from responses import matchers

from integrations.ml_service.client import MLServiceClient, get_ml_client
from integrations.ml_service.exceptions import MLServiceRejected, MLServiceUnavailable

JOB_ID = "6f1c1c4e-8d0a-4d8e-9a55-3c1f0f1d2b7a"


@pytest.fixture
def client(ml_service) -> MLServiceClient:
    return get_ml_client()


@pytest.mark.parametrize(
    ("call", "method", "path", "status"),
    [
        (lambda c: c.train(), "POST", "/train", 202),
        (lambda c: c.get_job(JOB_ID), "GET", f"/train/{JOB_ID}", 200),
        (lambda c: c.list_jobs(), "GET", "/train", 200),
        (lambda c: c.predict({"text": "hello"}), "POST", "/predict", 200),
        (lambda c: c.list_models(), "GET", "/models", 200),
        (lambda c: c.activate_model("v1.2_x-3"), "POST", "/models/v1.2_x-3/activate", 200),
    ],
)
def test_each_method_calls_its_endpoint(client, ml_service, ml_url, call, method, path, status):
    ml_service.add(method, f"{ml_url}{path}", json={"ok": True}, status=status)

    result = call(client)

    assert (result.status_code, result.body) == (status, {"ok": True})
    assert ml_service.calls[0].request.headers["X-Service-Token"] == "test-ml-service-token"


def test_predict_sends_the_payload_as_json(client, ml_service, ml_url):
    payload = {"texts": ["a", "  b  "]}
    ml_service.post(
        f"{ml_url}/predict",
        json={"predictions": []},
        match=[matchers.json_params_matcher(payload)],
    )

    client.predict(payload)


def test_list_jobs_forwards_the_limit(client, ml_service, ml_url):
    ml_service.get(
        f"{ml_url}/train",
        json={"results": []},
        match=[matchers.query_param_matcher({"limit": "5"})],
    )

    client.list_jobs(limit=5)


def test_every_call_uses_the_configured_timeouts(ml_service, ml_url, settings):
    settings.ML_SERVICE_CONNECT_TIMEOUT = 0.5
    settings.ML_SERVICE_READ_TIMEOUT = 7.0
    ml_service.get(f"{ml_url}/models", json={"results": []})

    get_ml_client().list_models()

    assert ml_service.calls[0].request.req_kwargs["timeout"] == (0.5, 7.0)


def test_the_session_pool_is_sized_for_the_gunicorn_threads(settings):
    settings.ML_SERVICE_POOL_SIZE = 8

    adapter = get_ml_client().session.get_adapter(settings.ML_SERVICE_URL)

    assert adapter._pool_maxsize == 8


def test_the_service_token_comes_from_settings(ml_service, ml_url, settings):
    settings.ML_SERVICE_TOKEN = "rotated-token"
    ml_service.get(f"{ml_url}/models", json={"results": []})

    get_ml_client().list_models()

    assert ml_service.calls[0].request.headers["X-Service-Token"] == "rotated-token"


def test_the_client_is_one_shared_instance():
    assert get_ml_client() is get_ml_client()


@pytest.mark.parametrize("status", [400, 404, 409, 413])
def test_4xx_is_rejected_with_the_services_status_and_body(client, ml_service, ml_url, status):
    body = {"detail": "A training job is already queued or running.", "job_id": JOB_ID}
    ml_service.post(f"{ml_url}/train", json=body, status=status)

    with pytest.raises(MLServiceRejected) as excinfo:
        client.train()

    assert (excinfo.value.status_code, excinfo.value.body) == (status, body)


def test_4xx_without_a_detail_gets_one(client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", json={}, status=404)

    with pytest.raises(MLServiceRejected) as excinfo:
        client.list_models()

    assert excinfo.value.body["detail"]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status": 500, "json": {"detail": "boom"}}, id="500"),
        pytest.param({"status": 502, "body": "Bad Gateway"}, id="502-html"),
        pytest.param({"status": 503, "json": {"detail": "redis down"}}, id="503"),
        pytest.param({"status": 200, "body": "<html>not json</html>"}, id="200-not-json"),
        pytest.param({"status": 200, "json": ["not", "an", "object"]}, id="200-json-list"),
        pytest.param({"status": 404, "body": "Not Found"}, id="404-not-json"),
        pytest.param({"body": requests.ConnectionError("refused")}, id="connection-error"),
        pytest.param({"body": requests.ConnectTimeout("connect timeout")}, id="connect-timeout"),
        pytest.param({"body": requests.ReadTimeout("read timeout")}, id="read-timeout"),
    ],
)
def test_failures_become_one_unavailable_error(client, ml_service, ml_url, failure):
    ml_service.add(responses.GET, f"{ml_url}/models", **failure)

    with pytest.raises(MLServiceUnavailable) as excinfo:
        client.list_models()

    assert str(excinfo.value) == "The ML service is unavailable; try again shortly."


def test_connection_refused_by_a_real_closed_port_is_unavailable(settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(MLServiceUnavailable) as excinfo:
        get_ml_client().train()

    assert "127.0.0.1" in excinfo.value.reason
