"""Bad input is a 400 with {"detail", "errors"}, and nothing is saved."""

import json

import pytest

from data.models import Data

pytestmark = pytest.mark.django_db

URL = "/api/data/"
TEXT_MAX_LENGTH = 100_000


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"text": "", "label": "libs"}, "text", id="empty-text"),
        pytest.param({"text": "   \n\t", "label": "libs"}, "text", id="whitespace-text"),
        pytest.param({"text": "\u3000\u00a0", "label": "libs"}, "text", id="unicode-space-text"),
        pytest.param({"text": "nul\x00byte", "label": "libs"}, "text", id="nul-in-text"),
        pytest.param({"text": "x" * (TEXT_MAX_LENGTH + 1), "label": "l"}, "text", id="long-text"),
        pytest.param({"text": "x" * 1_048_576, "label": "l"}, "text", id="1mb-text"),
        pytest.param({"text": "hello", "label": "x" * 1_048_576}, "label", id="1mb-label"),
        pytest.param({"text": "\ud800", "label": "libs"}, "text", id="lone-surrogate"),
        pytest.param({"text": 42, "label": "libs"}, "text", id="number-text"),
        pytest.param({"text": None, "label": "libs"}, "text", id="null-text"),
        pytest.param({"text": ["a"], "label": "libs"}, "text", id="list-text"),
        pytest.param({"text": {"a": 1}, "label": "libs"}, "text", id="object-text"),
        pytest.param({"text": True, "label": "libs"}, "text", id="bool-text"),
        pytest.param({"label": "libs"}, "text", id="missing-text"),
        pytest.param({"text": "hello", "label": ""}, "label", id="empty-label"),
        pytest.param({"text": "hello", "label": "  "}, "label", id="whitespace-label"),
        pytest.param({"text": "hello", "label": "a\x00b"}, "label", id="nul-in-label"),
        pytest.param({"text": "hello", "label": "x" * 101}, "label", id="long-label"),
        pytest.param({"text": "hello", "label": 7}, "label", id="number-label"),
        pytest.param({"text": "hello"}, "label", id="missing-label"),
        pytest.param({"text": "hello", "label": "l", "lable": "x"}, "lable", id="unknown-field"),
        pytest.param({"text": "hello", "label": "l", "id": 5}, "id", id="read-only-field"),
        pytest.param({}, "text", id="empty-object"),
        pytest.param("just a string", "non_field_errors", id="json-string"),
        pytest.param(42, "non_field_errors", id="json-number"),
        pytest.param(None, "non_field_errors", id="json-null"),
    ],
)
def test_bad_item_is_rejected(api_client, payload, field):
    response = api_client.post(URL, data=json.dumps(payload), content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Invalid input")
    assert field in body["errors"]
    assert Data.objects.count() == 0


def test_text_of_exactly_the_maximum_length_is_accepted(api_client):
    response = api_client.post(URL, {"text": "x" * TEXT_MAX_LENGTH, "label": "l"})

    assert response.status_code == 201


def test_text_cap_follows_the_setting(api_client, settings):
    settings.TEXT_MAX_LENGTH = 5

    response = api_client.post(URL, {"text": "123456", "label": "l"})

    assert response.status_code == 400
    assert response.json()["errors"]["text"] == ["Ensure this field has no more than 5 characters."]


def test_unknown_fields_and_field_errors_are_reported_together(api_client):
    response = api_client.post(URL, {"text": "", "label": "l", "extra": 1})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"text", "extra"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{not json", id="syntax"),
        pytest.param('{"text": "a", "label": "b",}', id="trailing-comma"),
        pytest.param('{"text": NaN, "label": "b"}', id="nan"),
        pytest.param(b'{"text": "\xff\xfe", "label": "b"}', id="invalid-utf8"),
        pytest.param("[" * 100_000, id="nested-too-deeply"),
        pytest.param("", id="empty-body"),
    ],
)
def test_malformed_json_is_400(api_client, body):
    response = api_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert Data.objects.count() == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "text=a&label=b"),
        ("application/x-www-form-urlencoded", "text=a&label=b"),
        ("application/xml", "<data/>"),
    ],
)
def test_non_json_content_type_is_415(api_client, content_type, body):
    response = api_client.post(URL, data=body, content_type=content_type)

    assert response.status_code == 415
    assert "detail" in response.json()
    assert Data.objects.count() == 0


def test_a_1mb_text_in_an_update_changes_nothing(api_client):
    record = Data.objects.create(text="text", label="libs")

    for method in ("put", "patch"):
        response = getattr(api_client, method)(
            f"{URL}{record.id}/", {"text": "x" * 1_048_576, "label": "libs"}
        )
        assert response.status_code == 400
        assert "text" in response.json()["errors"]

    record.refresh_from_db()
    assert record.text == "text"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\xc3\x28", id="invalid-utf8-only"),
        pytest.param(
            b'[{"text": "ok", "label": "l"}, {"text": "\xed\xa0\x80", "label": "l"}]',
            id="surrogate-bytes-in-bulk",
        ),
        pytest.param(b"\x00", id="nul-byte-body"),
    ],
)
def test_invalid_utf8_bodies_are_400_and_save_nothing(api_client, body):
    response = api_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert Data.objects.count() == 0


def test_a_body_over_the_upload_limit_is_413_and_saves_nothing(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api_client.post(URL, [{"text": "x" * 100, "label": "l"}] * 20)

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert Data.objects.count() == 0
