"""The short path of POST /api/predict/ (gateway.predict_short_path): taken by plain
token-authenticated single-text calls, answering exactly as DRF's path does."""

import json

import pytest
from django.core.cache import cache
from knox.models import get_token_model
from rest_framework.test import APIClient

from common.throttling import cache_circuit
from gateway import apis
from gateway.predict_short_path import plain_payload
from gateway.serializers import PredictInputSerializer
from tests.fake_ml_service import json_body_is

pytestmark = pytest.mark.django_db

URL = "/api/predict/"
PREDICTION = {"label": "editors", "probabilities": {"editors": 1.0}, "model_version": "v1"}
# Any Accept value outside "", "*/*" and "application/json" goes through DRF's path.
THROUGH_DRF = {"HTTP_ACCEPT": "application/json; q=0.9"}

PLAIN = [
    {"text": "a text editor"},
    {"text": "  kept exactly 👩‍💻 \n"},
    {"text": "x" * 100_000},
    {"text": "a", "explain": 1},
    {"text": "a", "explain": 20},
]
NOT_PLAIN = [
    {},
    {"texts": ["one", "two"]},
    {"text": "a", "texts": ["b"]},
    {"text": ""},
    {"text": " \n\t"},
    {"text": "a\x00"},
    {"text": "\ud800"},
    {"text": "x" * 100_001},
    {"text": 5},
    {"text": None},
    {"text": ["a"]},
    {"text": "a", "model": "svc"},
    {"text": "a", "explain": 0},
    {"text": "a", "explain": 21},
    {"text": "a", "explain": "5"},
    {"text": "a", "explain": 2.0},
    {"text": "a", "explain": True},
    {"text": "a", "explain": None},
    ["a"],
    "a",
]


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache_circuit.reset()
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def serializer_builds(monkeypatch) -> list[object]:
    """Every PredictInputSerializer the view builds."""
    built = []

    class Counted(PredictInputSerializer):
        def __init__(self, *args, **kwargs):
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(apis, "PredictInputSerializer", Counted)
    return built


@pytest.mark.parametrize("payload", PLAIN + NOT_PLAIN)
def test_what_the_short_path_takes_the_serializer_takes_unchanged(payload):
    taken = plain_payload(json.dumps(payload).encode())
    serializer = PredictInputSerializer(data=payload)

    if taken is not None:
        assert serializer.is_valid(), serializer.errors
        assert dict(serializer.validated_data) == taken == payload
    # By identity: {"explain": True} == {"explain": 1} in Python.
    assert (taken is not None) == any(payload is plain for plain in PLAIN)


@pytest.mark.parametrize("body", [b"{oops", b'{"text": "\xff"}', b"[" * 5000, b'{"text": NaN}'])
def test_bodies_that_are_not_plain_json_are_left_to_drf(body):
    assert plain_payload(body) is None


def test_a_plain_call_builds_no_serializer_and_answers_as_drf(
    api_client, ml_service, ml_url, serializer_builds
):
    ml_service.post(f"{ml_url}/predict", json=PREDICTION, match=[json_body_is({"text": "vim"})])

    short = api_client.post(URL, {"text": "vim"})
    assert serializer_builds == []
    full = api_client.post(URL, {"text": "vim"}, **THROUGH_DRF)
    assert len(serializer_builds) == 1

    assert (short.status_code, short.json()) == (full.status_code, full.json()) == (200, PREDICTION)
    for header in ("Content-Type", "Allow", "Vary", "X-RateLimit-Limit", "X-RateLimit-Remaining"):
        assert short[header] is not None
        if header != "X-RateLimit-Remaining":
            assert short[header] == full[header]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (409, {"detail": "No trained model is available yet."}),
        (400, {"detail": "text: too odd", "errors": {"text": ["too odd"]}}),
    ],
)
def test_the_ml_services_refusal_is_relayed_as_by_drf(
    api_client, ml_service, ml_url, serializer_builds, status, body
):
    ml_service.post(f"{ml_url}/predict", json=body, status=status)

    short = api_client.post(URL, {"text": "vim"})
    full = api_client.post(URL, {"text": "vim"}, **THROUGH_DRF)

    assert len(serializer_builds) == 1  # only the call through DRF
    assert (short.status_code, short.json()) == (full.status_code, full.json()) == (status, body)
    assert short["Content-Type"] == full["Content-Type"]


def test_the_ml_service_down_is_the_same_503(api_client, settings, closed_port, serializer_builds):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    short = api_client.post(URL, {"text": "vim"})
    full = api_client.post(URL, {"text": "vim"}, **THROUGH_DRF)

    assert len(serializer_builds) == 1  # only the call through DRF
    assert (short.status_code, short.json()) == (full.status_code, full.json())
    assert short.status_code == 503


def test_a_deleted_token_is_refused_by_drf(api_client, user, ml_service):
    get_token_model().objects.filter(user=user).delete()

    response = api_client.post(URL, {"text": "vim"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert response["WWW-Authenticate"] == "Token"
    assert len(ml_service.calls) == 0


def test_a_throttled_call_is_drfs_429_with_its_headers(api_client, ml_service, ml_url, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/hour", "anon": "1000/min"},
    }
    ml_service.post(f"{ml_url}/predict", json=PREDICTION)

    answers = [api_client.post(URL, {"text": "vim"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert all(a["X-RateLimit-Limit"] == "2" for a in answers)
    assert int(answers[2]["Retry-After"]) > 0
    assert answers[2].json()["detail"].startswith("Request was throttled.")
    assert len(ml_service.calls) == 2


def test_a_session_call_goes_through_drf(user, ml_service, ml_url, serializer_builds):
    client = APIClient()
    client.force_login(user)
    ml_service.post(f"{ml_url}/predict", json=PREDICTION)

    response = client.post(URL, {"text": "vim"})

    assert response.status_code == 200
    assert len(serializer_builds) == 1


def test_a_query_string_goes_through_drf(api_client, ml_service, ml_url, serializer_builds):
    ml_service.post(f"{ml_url}/predict", json=PREDICTION)

    response = api_client.post(f"{URL}?format=json", {"text": "vim"})

    assert response.status_code == 200
    assert len(serializer_builds) == 1
