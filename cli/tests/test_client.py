import httpx
import pytest

from textclf_cli.client import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_CONNECTION,
    EXIT_RATE_LIMITED,
    ApiError,
    Client,
)


def answering(status, body=None, headers=None):
    def handle(request):
        return httpx.Response(status, json=body, headers=headers)

    return Client(
        "http://textclf.test", "t", transport=httpx.MockTransport(handle), sleep=lambda s: None
    )


@pytest.mark.parametrize(
    ("path", "status", "body", "headers", "message", "code"),
    [
        (
            "/api/data/",
            401,
            {"detail": "Invalid token."},
            None,
            "Not authenticated (Invalid token). Log in again: textclf login",
            EXIT_AUTH,
        ),
        (
            "/api/train/",
            403,
            {"detail": "You do not have permission to perform this action."},
            None,
            "Forbidden: You do not have permission to perform this action."
            " Training needs a staff account.",
            EXIT_AUTH,
        ),
        (
            "/api/train/",
            409,
            {"detail": "A training job is already queued or running.", "job_id": "j-1"},
            None,
            "Conflict: A training job is already queued or running"
            " (active job j-1; follow it: textclf train --follow --job j-1).",
            EXIT_API,
        ),
        (
            "/api/predict/",
            409,
            {"detail": "No model has been trained yet."},
            None,
            "No model to predict with yet (No model has been trained yet)."
            " Run textclf train first.",
            EXIT_API,
        ),
        (
            "/api/data/",
            413,
            {"detail": "Request body too large."},
            None,
            "Request too large for the server (Request body too large)."
            " Use a smaller --batch-size.",
            EXIT_API,
        ),
        (
            "/api/auth/token/",
            429,
            {"detail": "Too many requests; slow down."},
            {"Retry-After": "42"},
            "Rate-limited (Too many requests; slow down). Try again in 42 s.",
            EXIT_RATE_LIMITED,
        ),
        (
            "/api/predict/",
            503,
            {"detail": "The ML service is unavailable."},
            None,
            "Service unavailable: The ML service is unavailable. Try again shortly.",
            EXIT_API,
        ),
        ("/api/data/", 502, None, None, "HTTP 502 Bad Gateway (HTTP 502).", EXIT_API),
    ],
)
def test_every_error_is_one_clear_line(path, status, body, headers, message, code):
    with pytest.raises(ApiError) as caught:
        answering(status, body, headers).get(path)
    assert caught.value.message == message
    assert caught.value.exit_code == code
    assert "\n" not in caught.value.message


def test_a_short_429_is_waited_out_and_retried():
    answers = iter(
        [
            httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"ok": 1}),
        ]
    )
    waits = []
    client = Client(
        "http://t", transport=httpx.MockTransport(lambda r: next(answers)), sleep=waits.append
    )
    assert client.get("/api/x/") == {"ok": 1}
    assert waits == [2.0]


def test_login_does_not_wait_on_429():
    calls = []

    def handle(request):
        calls.append(request)
        return httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "1"})

    client = Client("http://t", transport=httpx.MockTransport(handle), sleep=lambda s: None)
    with pytest.raises(ApiError, match="Try again in 1 s"):
        client.post("/api/auth/token/", json={}, wait_on_429=False)
    assert len(calls) == 1


def test_connection_refused():
    client = Client("http://127.0.0.1:9", timeout=2)
    with pytest.raises(ApiError) as caught:
        client.get("/api/health/")
    assert caught.value.exit_code == EXIT_CONNECTION
    assert (
        caught.value.message
        == "Cannot connect to http://127.0.0.1:9 (connection refused). Is the stack up (make up)?"
    )


def test_next_links_stay_on_our_server():
    client = Client("http://mine:8080")
    assert (
        client.relative("http://other/api/data/?cursor=abc&page_size=5")
        == "/api/data/?cursor=abc&page_size=5"
    )
