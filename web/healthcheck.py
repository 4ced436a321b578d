"""Container healthcheck: exit 0 when /api/health/ready answers {"status": "ok"} (DB reachable).

The slim image has no curl; compose runs `python -m healthcheck` (WORKDIR /app).
"""

import json
import sys
import urllib.request

URL = "http://127.0.0.1:8000/api/health/ready"
# Above the database connect_timeout (3 s), so a dead database reads as 503, not a timeout.
TIMEOUT_SECONDS = 4


def main() -> int:
    try:
        with urllib.request.urlopen(URL, timeout=TIMEOUT_SECONDS) as response:
            healthy = response.status == 200 and json.load(response).get("status") == "ok"
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not healthy:
        print("unhealthy: unexpected answer", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
