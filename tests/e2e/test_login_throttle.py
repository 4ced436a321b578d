"""Password guessing through nginx: /api/auth/token/ answers 429 after LOGIN_THROTTLE_CLIENT
attempts from one client, whatever X-Forwarded-For the client sends (the per-username limit
is tested in web's suite)."""

from __future__ import annotations

import uuid

from harness import Api

CLIENT_LIMIT = 10  # LOGIN_THROTTLE_CLIENT's default, per minute


def test_a_forged_x_forwarded_for_does_not_escape_the_client_limit(stack, token):
    """`token` first: the session's own login is done before this client's budget is spent."""
    anonymous = Api(stack.base_url)
    statuses = []
    for attempt in range(CLIENT_LIMIT + 1):
        response = anonymous.post(
            "/api/auth/token/",
            json={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong"},
            headers={"X-Forwarded-For": f"10.{attempt}.0.1", "X-Real-IP": f"10.{attempt}.0.1"},
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            break

    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {400}, statuses
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["detail"]
