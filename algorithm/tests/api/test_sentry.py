"""An exception in a route reaches Sentry (a local stand-in), without secrets or personal data."""

import json
from dataclasses import replace

import pytest
import sentry_sdk
from flask import request

from mlservice import create_app
from tests.support import TEST_SERVICE_TOKEN
from tests.support.sentry_stub import SentryStub


def explode():
    raise RuntimeError("route failed")


def explode_with_text():
    # The text sits in a local variable and in the parsed body when the error happens.
    texts = request.get_json()["texts"]
    raise RuntimeError(f"route failed with {len(texts)} texts")


# Kept away from explode(): Sentry sends source lines around the raise, and these must not be
# found there by accident.
USER_TOKEN = "user-secret-" + "token"
USER_COOKIE = "user-session-" + "cookie"
USER_TEXT = "a text a user wants " + "classified"


@pytest.fixture
def sentry_stub():
    with SentryStub() as stub:
        yield stub
    sentry_sdk.init()  # no DSN: stop reporting for the rest of the suite


def test_a_route_exception_is_reported(settings, sentry_stub):
    app = create_app(
        replace(
            settings,
            sentry_dsn=sentry_stub.dsn,
            sentry_environment="api-tests",
            sentry_release="textclf@1.2.3",
        )
    )  # not TESTING: errors are handled as in production
    app.add_url_rule("/explode", view_func=explode, methods=["POST"])
    response = app.test_client().post(
        "/explode",
        json={"text": USER_TEXT},
        headers={
            "X-Service-Token": TEST_SERVICE_TOKEN,
            "Authorization": f"Token {USER_TOKEN}",
            "Cookie": f"sessionid={USER_COOKIE}",
            "X-Request-ID": "rid-sentry",
        },
    )
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error."}
    sentry_sdk.flush(timeout=5)

    event = sentry_stub.wait_for_event(
        lambda e: e["exception"]["values"][-1]["value"] == "route failed", timeout=10
    )
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["environment"] == "api-tests"
    assert event["release"] == "textclf@1.2.3"
    assert event["tags"]["service"] == "algorithm"
    assert event["request"]["url"].endswith("/explode")
    assert not event["request"].get("data")  # request bodies are user texts: never sent
    assert "Cookie" not in event["request"]["headers"]
    sent = json.dumps(event)
    for secret in (TEST_SERVICE_TOKEN, USER_TOKEN, USER_COOKIE, USER_TEXT):
        assert secret not in sent


def test_a_text_in_a_failing_request_reaches_sentry_nowhere(settings, sentry_stub):
    app = create_app(replace(settings, sentry_dsn=sentry_stub.dsn))
    app.add_url_rule("/explode-with-text", view_func=explode_with_text, methods=["POST"])
    response = app.test_client().post(
        f"/explode-with-text?search={USER_TEXT.replace(' ', '-')}",
        json={"texts": [USER_TEXT]},
        headers={"X-Service-Token": TEST_SERVICE_TOKEN},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    event = sentry_stub.wait_for_event(
        lambda e: e["exception"]["values"][-1]["value"] == "route failed with 1 texts",
        timeout=10,
    )
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames
    assert not any("vars" in frame for frame in frames)
    assert "query_string" not in event["request"]
    assert "breadcrumbs" not in event or not event["breadcrumbs"].get("values")
    sent = json.dumps(event)
    assert USER_TEXT not in sent
    assert USER_TEXT.replace(" ", "-") not in sent
