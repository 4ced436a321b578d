"""Password guessing through nginx: /api/auth/token/ answers 429 after LOGIN_THROTTLE_CLIENT
attempts from one client, whatever X-Forwarded-For the client sends, and every answer says how
many are left (the per-username limit is tested in web's suite)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

from harness import Api

CLIENT_LIMIT = 10  # LOGIN_THROTTLE_CLIENT's default, per minute
USERNAME_LIMIT = 5  # LOGIN_THROTTLE_USERNAME's


def test_a_forged_x_forwarded_for_does_not_escape_the_client_limit(stack, token, tmp_path):
    """`token` first: the session's own login is done before this client's budget is spent."""
    anonymous = Api(stack.base_url)
    statuses = []
    limits = []
    for attempt in range(CLIENT_LIMIT + 1):
        response = anonymous.post(
            "/api/auth/token/",
            json={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong"},
            headers={"X-Forwarded-For": f"10.{attempt}.0.1", "X-Real-IP": f"10.{attempt}.0.1"},
        )
        statuses.append(response.status_code)
        limits.append(
            (
                int(response.headers["X-RateLimit-Limit"]),
                int(response.headers["X-RateLimit-Remaining"]),
            )
        )
        if response.status_code == 429:
            break

    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {400}, statuses
    # The tightest of the two limits: each new username has 4 of its 5 left, so that one speaks
    # until the client's own count runs lower; the client's spoke on the last attempts.
    assert {limit for limit, _ in limits} <= {USERNAME_LIMIT, CLIENT_LIMIT}, limits
    remaining = [left for _, left in limits]
    assert remaining == sorted(remaining, reverse=True), limits
    assert limits[-2:] == [(CLIENT_LIMIT, 0)] * min(len(limits), 2), limits
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Reset"] == response.headers["Retry-After"]
    assert response.json()["detail"]

    # The command-line client tells the wait it was given (a login is not retried).
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTCLF_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"))
    if stack.ca_file:  # https (the prod profile): httpx trusts SSL_CERT_FILE
        env["SSL_CERT_FILE"] = stack.ca_file
    command = [sys.executable, "-m", "textclf_cli", "login", "--url", stack.base_url]
    login = subprocess.run(
        [*command, "--username", "nobody", "--password-stdin"],
        input="wrong\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 6, login.stderr  # rate-limited
    wait = re.search(r"Try again in (\d+) s\.", login.stderr)
    assert wait and 0 < int(wait.group(1)) <= int(response.headers["Retry-After"]), login.stderr
