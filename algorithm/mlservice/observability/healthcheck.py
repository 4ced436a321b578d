"""Container healthchecks, in Python because the slim image has no curl.

    python -m mlservice.observability.healthcheck api     GET /health/ready on this container's
                                                          gunicorn (the broker is reachable:
                                                          gates start-up)
    python -m mlservice.observability.healthcheck live    GET /health/live (the process answers)
    python -m mlservice.observability.healthcheck worker  the worker's heartbeat file is fresh

Exit status 0 means healthy; otherwise one line on stderr says why.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mlservice.config import Settings

API_URL = "http://127.0.0.1:8000/health/ready"
LIVE_URL = "http://127.0.0.1:8000/health/live"
API_TIMEOUT_SECONDS = 3.0
# The worker touches its heartbeat every 10 s; six missed beats mean it is stuck or disconnected.
HEARTBEAT_MAX_AGE_SECONDS = 60.0


def check_api(url: str = API_URL, timeout: float = API_TIMEOUT_SECONDS) -> str | None:
    """None when `url` answers 200 with status ok, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{url}: {exc}"
    if body.get("status") != "ok":
        return f"{url}: unexpected body {body!r}"
    return None


def check_worker(
    heartbeat_file: Path, max_age: float = HEARTBEAT_MAX_AGE_SECONDS, now: float | None = None
) -> str | None:
    """None when the heartbeat file was touched within `max_age` seconds, else the reason."""
    try:
        modified = heartbeat_file.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat file at {heartbeat_file}"
    age = (time.time() if now is None else now) - modified
    if age > max_age:
        return f"heartbeat is {age:.0f} s old (limit {max_age:.0f} s)"
    return None


def main(argv: list[str]) -> int:
    if argv not in (["api"], ["live"], ["worker"]):
        print(
            "usage: python -m mlservice.observability.healthcheck api|live|worker", file=sys.stderr
        )
        return 2
    if argv == ["api"]:
        problem = check_api()
    elif argv == ["live"]:
        problem = check_api(LIVE_URL)
    else:
        problem = check_worker(Settings.from_env().worker_heartbeat_file)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
