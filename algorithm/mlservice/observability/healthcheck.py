"""The ML service's container healthchecks (the checks themselves: textclf_ops.healthcheck).

    python -m mlservice.observability.healthcheck api     GET /health/ready on this container's
                                                          gunicorn (the broker is reachable:
                                                          gates start-up)
    python -m mlservice.observability.healthcheck live    GET /health/live (the process answers)
    python -m mlservice.observability.healthcheck worker  the worker's heartbeat file is fresh

Exit status 0 means healthy; otherwise one line on stderr says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textclf_ops.healthcheck import check_file_age, check_url, report

from mlservice.config import Settings

API_URL = "http://127.0.0.1:8000/health/ready"
LIVE_URL = "http://127.0.0.1:8000/health/live"
# The worker touches its heartbeat every 10 s; six missed beats mean it is stuck or disconnected.
HEARTBEAT_MAX_AGE_SECONDS = 60.0


def check_worker(heartbeat_file: Path) -> str | None:
    """None when the worker's heartbeat is fresh, else the reason (also celery_worker_up)."""
    return check_file_age(heartbeat_file, HEARTBEAT_MAX_AGE_SECONDS)


def main(argv: list[str]) -> int:
    if argv == ["api"]:
        return report(check_url(API_URL))
    if argv == ["live"]:
        return report(check_url(LIVE_URL))
    if argv == ["worker"]:
        return report(check_worker(Settings.from_env().worker_heartbeat_file))
    print("usage: python -m mlservice.observability.healthcheck api|live|worker", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
