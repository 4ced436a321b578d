import json
import uuid

import pytest
import redis


def test_the_callers_request_id_is_echoed(client):
    response = client.get("/train", headers={"X-Request-ID": "0af7651916cd43dd8448eb211c80319c"})
    assert response.headers["X-Request-ID"] == "0af7651916cd43dd8448eb211c80319c"


# nginx's rule (textclf_ops.request_id), as in web: a colon is refused too.
@pytest.mark.parametrize("sent", [None, "", "x" * 129, "bad id with spaces", "é", "trace:span"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(client, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}
    minted = client.get("/health/live", headers=headers).headers["X-Request-ID"]
    assert uuid.UUID(hex=minted).hex == minted


def test_errors_carry_the_request_id_too(app):
    response = app.test_client().get("/models", headers={"X-Request-ID": "rid-401"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "rid-401"


def test_the_request_id_travels_to_the_worker_in_the_task_headers(client, settings):
    job_id = client.post("/train", headers={"X-Request-ID": "rid-to-celery"}).get_json()["job_id"]
    broker = redis.Redis.from_url(settings.celery_broker_url.get_secret_value())
    (raw,) = broker.lrange("training", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "mlservice.train_model"
    assert message["headers"]["request_id"] == "rid-to-celery"
    assert message["headers"]["argsrepr"] == repr([job_id])
    # The task id is the job id, so Flower's page of the task is found by the job's id.
    assert message["headers"]["id"] == job_id
