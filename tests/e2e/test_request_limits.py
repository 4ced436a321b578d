"""Request bodies built to cost memory do not cost web memory: four 16 MB `[[],[],...]` bodies
at once, through nginx, with a token and without one. Before the JSON shape check, such bodies
took web's memory up by hundreds of MiB each (SECURITY.md).

Memory is the web container's cgroup high-water mark, read before and after: a resource
assertion, whatever the timing of the requests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import Api

MIB = 1024 * 1024
# Under nginx's client_max_body_size (16m) and web's REQUEST_MAX_BODY_BYTES.
ATTACK = b"[" + b",".join([b"[]"] * ((16 * MIB - 18) // 3)) + b"]"
CONCURRENT = 4
ALLOWED_GROWTH = 100 * MIB

# cgroup v2, then v1: (current usage, high-water mark since the container started).
_CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.peak"),
    (
        "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        "/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
    ),
)


def web_memory(stack) -> tuple[int, int]:
    """(usage, peak) of the web container, in bytes."""
    for current, peak in _CGROUP_FILES:
        result = stack.exec("web", "cat", current, peak)
        if result.returncode == 0:
            usage, high = (int(value) for value in result.stdout.split())
            return usage, high
    raise AssertionError(f"no cgroup memory files readable in web: {result.stderr}")


def send_at_once(api: Api, path: str) -> list:
    headers = {"Content-Type": "application/json"}
    with ThreadPoolExecutor(CONCURRENT) as pool:
        futures = [
            pool.submit(api.post, path, data=ATTACK, headers=headers, timeout=120)
            for _ in range(CONCURRENT)
        ]
        return [future.result() for future in futures]


@pytest.mark.parametrize(
    ("path", "with_token", "expected"),
    [
        ("/api/data/", True, 400),
        ("/api/predict/", True, 400),
        ("/api/data/", False, 401),
        ("/api/predict/", False, 401),
    ],
)
def test_four_attack_bodies_at_once_leave_web_memory_flat(stack, token, path, with_token, expected):
    api = Api(stack.base_url, token if with_token else None)
    usage_before, peak_before = web_memory(stack)

    responses = send_at_once(api, path)

    assert [response.status_code for response in responses] == [expected] * CONCURRENT
    assert all(response.json()["detail"] for response in responses)
    _, peak_after = web_memory(stack)
    growth = peak_after - max(usage_before, peak_before)
    print(  # the figures, for `pytest -s`
        f"{path} token={with_token}: web {usage_before / MIB:.0f} MiB in use, peak "
        f"{peak_before / MIB:.0f} -> {peak_after / MIB:.0f} MiB"
    )
    assert growth < ALLOWED_GROWTH, (
        f"web's memory peaked {growth / MIB:.0f} MiB above where it was "
        f"({usage_before / MIB:.0f} MiB in use, {peak_before / MIB:.0f} MiB peak before)"
    )


def test_the_attack_body_to_the_login_route_is_413(stack):
    """nginx (the auth routes' own small limit) or web (AUTH_MAX_BODY_BYTES) refuses it."""
    response = Api(stack.base_url).post(
        "/api/auth/token/", data=ATTACK, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


def test_a_legitimate_bulk_of_the_largest_size_is_still_accepted(api, corpus):
    response = api.post("/api/data/", json=corpus.held_out[:300] * 3 + corpus.held_out[:100])

    assert response.status_code == 201, response.text[:500]
    assert len(response.json()) == 1000


def test_a_large_ml_request_passes_the_auth_subrequest(api):
    """nginx asks web (/api/auth/check/, an auth route with a small body limit) about every
    /ml/ call without forwarding the body or its length, so a big prediction is not a 413."""
    response = api.post("/ml/predict", json={"texts": ["a long text " * 500] * 10})

    assert response.status_code not in (401, 403, 413, 500), response.text[:500]
