import json

import pytest

from tests.fake_ml_service import json_body_is

pytestmark = pytest.mark.django_db

URL = "/api/predict/"
TEXT_MAX_LENGTH = 100_000
PREDICTION = {
    "label": "editors",
    "probabilities": {"editors": 0.9, "libs": 0.1},
    "model_version": "20261127T010203Z-3fa2c1",
}


def test_single_text_is_forwarded_exactly_and_the_answer_relayed(api_client, ml_service, ml_url):
    text = "  A text editor 👩‍💻 \n"
    ml_service.post(f"{ml_url}/predict", json=PREDICTION, match=[json_body_is({"text": text})])

    response = api_client.post(URL, {"text": text})

    assert response.status_code == 200
    assert response.json() == PREDICTION


def test_batch_is_forwarded(api_client, ml_service, ml_url):
    answer = {"predictions": [{"label": "libs", "probabilities": {"libs": 1.0}}] * 2}
    answer["model_version"] = "v1"
    ml_service.post(
        f"{ml_url}/predict",
        json=answer,
        match=[json_body_is({"texts": ["one", "two"]})],
    )

    response = api_client.post(URL, {"texts": ["one", "two"]})

    assert response.status_code == 200
    assert response.json() == answer


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({}, "non_field_errors", id="neither"),
        pytest.param({"text": "a", "texts": ["b"]}, "non_field_errors", id="both"),
        pytest.param({"text": ""}, "text", id="empty-text"),
        pytest.param({"text": " \n "}, "text", id="whitespace-text"),
        pytest.param({"text": "a\x00"}, "text", id="nul"),
        pytest.param({"text": "x" * (TEXT_MAX_LENGTH + 1)}, "text", id="long-text"),
        pytest.param({"text": "é" * 1_048_576}, "text", id="1mb-text"),
        pytest.param({"texts": ["ok", "x" * 1_048_576]}, "texts", id="1mb-item"),
        pytest.param({"text": 5}, "text", id="number-text"),
        pytest.param({"text": None}, "text", id="null-text"),
        pytest.param({"texts": []}, "texts", id="empty-list"),
        pytest.param({"texts": "not a list"}, "texts", id="string-texts"),
        pytest.param({"texts": ["ok", ""]}, "texts", id="blank-item"),
        pytest.param({"texts": ["ok", 3]}, "texts", id="number-item"),
        pytest.param({"texts": ["t"] * 1001}, "texts", id="over-batch-cap"),
        pytest.param({"text": "a", "model": "svc"}, "model", id="unknown-field"),
        pytest.param({"text": "a", "explain": 0}, "explain", id="explain-zero"),
        pytest.param({"text": "a", "explain": 21}, "explain", id="explain-over-20"),
        pytest.param({"text": "a", "explain": "5"}, "explain", id="explain-string"),
        pytest.param({"text": "a", "explain": 2.0}, "explain", id="explain-float"),
        pytest.param({"text": "a", "explain": True}, "explain", id="explain-bool"),
        pytest.param({"text": "a", "explain": None}, "explain", id="explain-null"),
        pytest.param(["a"], "non_field_errors", id="json-list"),
    ],
)
def test_bad_input_is_400_before_calling_the_service(api_client, ml_service, payload, field):
    response = api_client.post(URL, data=json.dumps(payload), content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Invalid input")
    assert field in body["errors"]
    assert len(ml_service.calls) == 0


def test_a_body_over_the_upload_limit_is_413(api_client, ml_service, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api_client.post(URL, {"text": "x" * 2000})

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large (at most 1000 bytes)."}
    assert len(ml_service.calls) == 0


def test_batch_cap_follows_the_setting(api_client, ml_service, settings):
    settings.PREDICT_BATCH_MAX = 2

    response = api_client.post(URL, {"texts": ["a", "b", "c"]})

    assert response.status_code == 400
    assert response.json()["errors"]["texts"] == ["Ensure this field has no more than 2 elements."]


@pytest.mark.parametrize("body", ["{oops", b'{"text": "\xff\xfe"}', b"\xc3\x28"])
def test_invalid_json_or_utf8_is_400(api_client, ml_service, body):
    response = api_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert len(ml_service.calls) == 0


def test_no_model_yet_is_the_services_409(api_client, ml_service, ml_url):
    body = {"detail": "No trained model is available yet; train one first with POST /api/train/."}
    ml_service.post(f"{ml_url}/predict", json=body, status=409)

    response = api_client.post(URL, {"text": "hello"})

    assert response.status_code == 409
    assert response.json() == body


def test_ml_service_down_is_503(api_client, settings, closed_port):
    settings.ML_SERVICE_URL = f"http://127.0.0.1:{closed_port}"

    response = api_client.post(URL, {"text": "hello"})

    assert response.status_code == 503
    assert response.json() == {"detail": "The ML service is unavailable; try again shortly."}


def test_anonymous_is_401(anonymous_client, ml_service):
    assert anonymous_client.post(URL, {"text": "hello"}).status_code == 401


def test_explain_is_forwarded_and_the_explanation_relayed(api_client, ml_service, ml_url):
    answer = {
        **PREDICTION,
        "known_token_share": 0.75,
        "unknown": False,
        "explanation": {
            "label": "editors",
            "score": 0.7,
            "intercept": -0.2,
            "terms": [{"term": "editor", "weight": 0.6}],
            "others_weight": 0.3,
        },
    }
    ml_service.post(
        f"{ml_url}/predict",
        json=answer,
        match=[json_body_is({"texts": ["a text editor"], "explain": 1})],
    )

    response = api_client.post(
        URL,
        data=json.dumps({"texts": ["a text editor"], "explain": 1}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == answer


def test_a_model_that_cannot_explain_is_the_services_409(api_client, ml_service, ml_url):
    body = {"detail": "explanations need CLASSIFIER=linear_svc."}
    ml_service.post(f"{ml_url}/predict", json=body, status=409)

    response = api_client.post(
        URL, data=json.dumps({"text": "a", "explain": 3}), content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json() == body
