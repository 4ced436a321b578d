import time

import pytest

from integrations.ml_service.client import MLServiceClient, get_ml_client
from integrations.ml_service.exceptions import MLServiceRejected, MLServiceUnavailable
from tests.fake_ml_service import RESET, json_body_is

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
    assert ml_service.calls[0].headers["X-Service-Token"] == "test-ml-service-token"


def test_predict_sends_the_payload_as_json(client, ml_service, ml_url):
    payload = {"texts": ["a", "  b  "]}
    ml_service.post(f"{ml_url}/predict", json={"predictions": []}, match=[json_body_is(payload)])

    client.predict(payload)

    assert ml_service.calls[0].headers["Content-Type"] == "application/json"


def test_list_jobs_forwards_the_limit(client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/train?limit=5", json={"results": []})

    client.list_jobs(limit=5)

    assert ml_service.calls[0].params == {"limit": "5"}


def test_a_slow_answer_is_cut_off_at_the_read_timeout(ml_service, ml_url, settings):
    settings.ML_SERVICE_READ_TIMEOUT = 0.2
    ml_service.get(f"{ml_url}/models", json={"results": []}, delay=1.0)

    started = time.monotonic()
    with pytest.raises(MLServiceUnavailable) as excinfo:
        get_ml_client().list_models()

    assert time.monotonic() - started < 0.9
    assert "timed out" in excinfo.value.reason


def test_the_timeouts_and_pool_size_come_from_settings(settings):
    settings.ML_SERVICE_CONNECT_TIMEOUT = 0.5
    settings.ML_SERVICE_READ_TIMEOUT = 7.0
    settings.ML_SERVICE_POOL_SIZE = 8

    client = get_ml_client()

    assert (client.timeout.connect_timeout, client.timeout.read_timeout) == (0.5, 7.0)
    assert client.pool.pool.maxsize == 8


def test_connections_are_kept_alive_between_calls(client, ml_service, ml_url):
    ml_service.get(f"{ml_url}/models", json={"results": []})

    for _ in range(3):
        client.list_models()

    assert client.pool.num_connections == 1


def test_a_path_in_the_base_url_is_kept(ml_service, settings):
    settings.ML_SERVICE_URL = f"{ml_service.url}/ml/"
    ml_service.get(f"{ml_service.url}/ml/models", json={"results": []})

    assert get_ml_client().list_models().body == {"results": []}


def test_the_service_token_comes_from_settings(ml_service, ml_url, settings):
    settings.ML_SERVICE_TOKEN = "rotated-token"
    ml_service.get(f"{ml_url}/models", json={"results": []})

    get_ml_client().list_models()

    assert ml_service.calls[0].headers["X-Service-Token"] == "rotated-token"


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
        pytest.param({"reset": True}, id="connection-dropped"),
        pytest.param({"delay": 1.0}, id="read-timeout"),
    ],
)
def test_failures_become_one_unavailable_error(ml_service, ml_url, settings, failure):
    settings.ML_SERVICE_READ_TIMEOUT = 0.2
    ml_service.add("GET", f"{ml_url}/models", **failure)

    with pytest.raises(MLServiceUnavailable) as excinfo:
        get_ml_client().list_models()

    assert str(excinfo.value) == "The ML service is unavailable; try again shortly."


def test_connection_refused_by_a_real_closed_port_is_unavailable(settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(MLServiceUnavailable) as excinfo:
        get_ml_client().train()

    assert "127.0.0.1" in excinfo.value.reason


def test_a_prediction_whose_connection_drops_is_sent_once_more(client, ml_service, ml_url):
    answers = iter([RESET, (200, {"Content-Type": "application/json"}, '{"label": "x"}')])
    ml_service.add_callback("POST", f"{ml_url}/predict", lambda request: next(answers))

    assert client.predict({"text": "hello"}).body == {"label": "x"}
    assert len(ml_service.calls) == 2


def test_a_training_whose_connection_drops_is_never_sent_twice(client, ml_service, ml_url):
    ml_service.add("POST", f"{ml_url}/train", reset=True)

    with pytest.raises(MLServiceUnavailable):
        client.train()
    assert len(ml_service.calls) == 1
