"""The test of a plain prediction call, which web's short path and the ML API's edge door share.
Which bodies it takes is checked against web's serializer in web's own tests
(test_predict_short_path.py); here, the request's line and headers."""

import pytest

from textclf_ops.predict_call import MAX_BODY_BYTES, is_plain_request, plain_payload

PLAIN = {
    "query_string": "",
    "accept": "",
    "content_type": "application/json",
    "content_length": "20",
    "max_bytes": 16 * 1024 * 1024,
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"accept": "*/*"},
        {"accept": "application/json"},
        {"accept": " application/json "},
        {"content_type": "application/json; charset=utf-8"},
        {"content_type": "Application/JSON;charset=UTF-8"},
        {"content_length": str(MAX_BODY_BYTES)},
    ],
)
def test_plain_requests(change):
    assert is_plain_request(**{**PLAIN, **change})


@pytest.mark.parametrize(
    "change",
    [
        {"query_string": "format=api"},
        {"accept": "text/html"},
        {"accept": "application/json; q=0.9"},
        {"content_type": "text/plain"},
        {"content_type": "application/json; charset=latin-1"},
        {"content_type": ""},
        {"content_length": ""},
        {"content_length": "0"},
        {"content_length": "x"},
        {"content_length": str(MAX_BODY_BYTES + 1)},
        {"content_length": "20", "max_bytes": 10},
    ],
)
def test_requests_left_to_web(change):
    assert not is_plain_request(**{**PLAIN, **change})


def test_the_text_limit_is_the_callers():
    assert plain_payload(b'{"text": "abcd"}', text_max_length=4) == {"text": "abcd"}
    assert plain_payload(b'{"text": "abcde"}', text_max_length=4) is None
