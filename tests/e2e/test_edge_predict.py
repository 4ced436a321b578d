"""POST /api/predict/ through nginx: a plain call goes straight to the ML API once web's token
check (kept per token for TOKEN_CACHE_SECONDS) lets it through; every other call is answered by
web, as before. The client cannot tell the doors apart: the same rules, messages, rate limits and
request id."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest

from harness import Api

# The stack's TOKEN_CACHE_SECONDS (the default).
TOKEN_CACHE_SECONDS = 5


def logged(stack, service: str, request_id: str) -> list[dict]:
    return [
        json.loads(line[line.index("{") :])
        for line in stack.lines_with(service, request_id)
        if "{" in line
    ]


def paths(lines: list[dict]) -> set[str]:
    return {line.get("path") for line in lines if line.get("path")}


def predict(api: Api, body, **headers):
    request_id = f"e2e-edge-{uuid.uuid4().hex}"
    response = api.post("/api/predict/", json=body, headers={"X-Request-ID": request_id, **headers})
    return response, request_id


def test_a_plain_prediction_is_answered_by_the_ml_api_alone(stack, api, trained_job):
    response, request_id = predict(api, {"text": "x11 window manager"})

    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"label", "probabilities", "model_version"}
    assert response.headers["X-Request-ID"] == request_id
    assert int(response.headers["X-RateLimit-Limit"]) == 6000
    edge_lines = logged(stack, "nginx", request_id)
    assert paths(logged(stack, "algorithm", request_id)) == {"/edge/predict"}, edge_lines
    # web saw at most nginx's token check, never the prediction.
    assert "/api/predict/" not in paths(logged(stack, "web", request_id))


def test_a_batch_is_answered_by_web_as_before(stack, api, trained_job):
    response, request_id = predict(api, {"texts": ["vim", "emacs"]})

    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 2
    assert "/api/predict/" in paths(logged(stack, "web", request_id))
    # The ML API handed it back unanswered, and answered web's call.
    answered = {(line["path"], line["status"]) for line in logged(stack, "algorithm", request_id)}
    assert answered == {("/edge/predict", 421), ("/predict", 200)}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"text": ""}, "Invalid input: text: This field may not be blank."),
        ({"text": "a", "explain": 0}, "Invalid input: explain: "),
        ({"text": "a", "model": "svc"}, "Invalid input: "),
        ({}, "Invalid input: "),
    ],
)
def test_invalid_input_gets_webs_messages(api, trained_job, body, detail):
    response, _ = predict(api, body)

    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(detail)
    assert int(response.headers["X-RateLimit-Limit"]) == 6000


@pytest.mark.parametrize("authorization", [None, "Token not-a-token", "Bearer x"])
def test_without_a_valid_token_web_answers_401(stack, trained_job, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = Api(stack.base_url, ca_file=stack.ca_file).post(
        "/api/predict/", json={"text": "vim"}, headers=headers
    )

    assert response.status_code == 401, response.text
    assert response.json()["detail"]
    # DRF's, as web answers it: knox's authentication header.
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_both_doors_draw_on_one_budget(api, trained_job):
    """Alternating edge predictions and calls web answers, each takes one from the same count."""
    for _ in range(3):  # a window that ends in the middle shows as a jump up: try again
        seen = []
        for call in range(4):
            response = (
                predict(api, {"text": "vim"})[0] if call % 2 == 0 else api.get("/api/models/")
            )
            assert response.status_code == 200, response.text
            seen.append(int(response.headers["X-RateLimit-Remaining"]))
        if seen == sorted(seen, reverse=True):
            break
    assert [earlier - later for earlier, later in itertools.pairwise(seen)] == [1, 1, 1], seen


def test_a_budget_sent_by_the_client_is_ignored(api, trained_job):
    response, _ = predict(api, {"text": "vim"}, **{"X-Edge-Budget": "someone-else 1 60"})

    assert response.status_code == 200, response.text
    assert int(response.headers["X-RateLimit-Limit"]) == 6000


def test_a_revoked_token_stops_predicting_within_the_token_cache(stack, token, trained_job):
    created = Api(stack.base_url, token, ca_file=stack.ca_file).post(
        "/api/auth/tokens/", json={"name": "e2e-edge-revoked"}
    )
    assert created.status_code == 201, created.text
    client = Api(stack.base_url, created.json()["token"], ca_file=stack.ca_file)
    assert predict(client, {"text": "vim"})[0].status_code == 200

    deleted = client.request("DELETE", f"/api/auth/tokens/{created.json()['id']}/")
    assert deleted.status_code == 204, deleted.text

    # nginx's cached yes, and each web process's, last at most TOKEN_CACHE_SECONDS.
    deadline = time.monotonic() + TOKEN_CACHE_SECONDS + 5
    while (status := predict(client, {"text": "vim"})[0].status_code) == 200:
        assert time.monotonic() < deadline, "the revoked token still predicts"
        time.sleep(0.5)
    assert status == 401


def test_the_token_check_has_no_public_route(anonymous, api):
    assert anonymous.get("/edge/predict-check/").status_code == 404
    assert api.get("/edge/predict-check/").status_code == 404
