"""Container healthcheck: exit 0 when the API answers /api/health/ with {"status": "ok"}.

The slim image has no curl; compose runs `python -m healthcheck` (WORKDIR /app).
"""

import json
import sys
import urllib.request

URL = "http://127.0.0.1:8000/api/health/"
TIMEOUT_SECONDS = 3


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
