"""POST /edge/predict (mlservice.api.edge): the public prediction route's door in the ML API.
It answers a plain call within the caller's budget, counted in web's counter in Redis, exactly
as /predict answers it; everything else it hands back unanswered (421) for web to answer."""

import json
import socket

import pytest
import redis
from pydantic import SecretStr

from mlservice import create_app
from mlservice.api import edge
from tests.support import authenticated

REDIS_URL = "redis://127.0.0.1:6379/12"
KEY = "textclf-web:throttle:user:7"
BUDGET = {"X-Edge-Budget": f"{KEY} 3 60"}


@pytest.fixture
def redis_db():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def app(settings, conn, redis_db):
    app = create_app(settings.model_copy(update={"cache_url": SecretStr(REDIS_URL)}))
    app.config["TESTING"] = True
    edge.cache_circuit.reset()
    yield app
    edge.cache_circuit.reset()


def post(client, body, headers=BUDGET, **kwargs):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        "/edge/predict", data=data, content_type="application/json", headers=headers, **kwargs
    )


def test_a_plain_call_is_answered_as_predict_answers_it(client, model_version, redis_db):
    text = "Python 3 bindings for the GTK toolkit"

    response = post(client, {"text": text, "explain": 3})

    assert response.status_code == 200
    assert response.get_json() == client.post("/predict", json={"text": text, "explain": 3}).json
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert 55 <= int(response.headers["X-RateLimit-Reset"]) <= 60
    # What DRF's view adds to web's answer of POST /api/predict/.
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert int(redis_db.get(KEY)) == 1


def test_no_model_is_answered_here_as_web_relays_it(client, redis_db):
    response = post(client, {"text": "a python web framework"})

    assert response.status_code == 409
    assert response.get_json()["detail"].startswith("No trained model")
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert int(redis_db.get(KEY)) == 1


def test_over_the_budget_web_answers_the_429(client, model_version, redis_db):
    statuses = [post(client, {"text": "vim"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, edge.HAND_OVER]
    assert int(redis_db.get(KEY)) == 4


@pytest.mark.parametrize(
    "body",
    [
        {"texts": ["one", "two"]},
        {"text": ""},
        {"text": "a", "explain": 0},
        {"text": "a", "model": "svc"},
        {"text": "\ud800"},
        b"{oops",
        b"[]",
    ],
)
def test_what_is_not_a_plain_call_goes_to_web_uncounted(client, model_version, redis_db, body):
    assert post(client, body).status_code == edge.HAND_OVER
    assert redis_db.get(KEY) is None


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({**BUDGET, "Accept": "text/html"}, ""),
        (BUDGET, "?format=api"),
        ({}, ""),  # no budget: nginx did not check the token
        ({"X-Edge-Budget": "textclf-web:throttle:user:7 0 60"}, ""),
        ({"X-Edge-Budget": "a key with spaces 3 60"}, ""),
    ],
)
def test_what_web_must_judge_goes_to_web(client, model_version, redis_db, headers, query):
    response = client.post(f"/edge/predict{query}", json={"text": "vim"}, headers={**headers})

    assert response.status_code == edge.HAND_OVER
    assert redis_db.get(KEY) is None


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_go_to_web(client, model_version, method):
    assert getattr(client, method)("/edge/predict", headers=BUDGET).status_code == edge.HAND_OVER


def test_an_unthrottled_caller_is_not_counted(client, model_version, redis_db):
    response = post(client, {"text": "vim"}, headers={"X-Edge-Budget": "none"})

    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers
    assert redis_db.keys() == []


def test_without_the_service_token_nothing_is_answered(app, model_version):
    response = app.test_client().post("/edge/predict", json={"text": "vim"}, headers=BUDGET)

    assert response.status_code == 401


def test_redis_down_lets_the_call_through(settings, conn, model_version, closed_port):
    app = create_app(
        settings.model_copy(update={"cache_url": SecretStr(f"redis://127.0.0.1:{closed_port}/0")})
    )
    edge.cache_circuit.reset()
    client = authenticated(app.test_client())

    responses = [post(client, {"text": "vim"}) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert "X-RateLimit-Remaining" not in responses[0].headers
    edge.cache_circuit.reset()


@pytest.fixture
def closed_port() -> int:
    """A local TCP port with nothing listening: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
