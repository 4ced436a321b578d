"""What both services send to Sentry (each service's suite sends a real event to a stand-in)."""

import sentry_sdk

from textclf_ops import sentry


def test_no_request_body_and_no_local_variables_are_ever_collected():
    options = sentry.init_options(
        dsn="http://public@127.0.0.1:1/1",
        environment="test",
        release="textclf@test",
        traces_sample_rate=0.0,
        integrations=[],
    )
    assert options["max_request_body_size"] == "never"
    assert options["include_local_variables"] is False
    assert "send_default_pii" not in options
    assert options["before_send"] is options["before_send_transaction"]
    assert options["before_send"] is sentry.event_without_user_data
    assert "x-service-token" in options["event_scrubber"].denylist


def test_an_event_loses_every_piece_of_user_data():
    event = {
        "request": {
            "url": "http://testserver/api/boom/",
            "method": "POST",
            "data": {"text": "a user's text"},
            "query_string": "search=a user's text",
            "cookies": {"sessionid": "x"},
            "env": {"REMOTE_ADDR": "10.0.0.1"},
        },
        "user": {"id": 1, "ip_address": "10.0.0.1"},
        "exception": {
            "values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"text": "t"}}]}}]
        },
        "breadcrumbs": {"values": [{"message": "a user's text"}]},
    }

    cleaned = sentry.event_without_user_data(event, {})

    assert cleaned["request"] == {"url": "http://testserver/api/boom/", "method": "POST"}
    assert "user" not in cleaned
    assert "breadcrumbs" not in cleaned
    assert cleaned["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "f"}]


def test_without_a_dsn_nothing_is_started():
    assert (
        sentry.sentry_init(
            service="svc",
            dsn="",
            environment="test",
            release="textclf@test",
            traces_sample_rate=0.0,
            integrations=[],
        )
        is False
    )
    assert not sentry_sdk.get_client().is_active()
