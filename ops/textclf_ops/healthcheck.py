"""Container healthchecks, in Python because the slim images have no curl.

    python -m textclf_ops.healthcheck URL [--timeout SECONDS]
        healthy when URL answers 200 with {"status": "ok"}
    python -m textclf_ops.healthcheck --file PATH [--max-age SECONDS]
        healthy when the file (a heartbeat) was touched within max-age seconds

Exit status 0 means healthy; otherwise one line on stderr says why.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def check_url(url: str, timeout: float = 3.0) -> str | None:
    """None when `url` answers 200 with status ok, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (ours)
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{url}: {exc}"
    if not isinstance(body, dict) or body.get("status") != "ok":
        return f"{url}: unexpected body {body!r}"
    return None


def check_file_age(path: Path, max_age: float, now: float | None = None) -> str | None:
    """None when the file was touched within `max_age` seconds, else the reason."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat file at {path}"
    age = (time.time() if now is None else now) - modified
    if age > max_age:
        return f"heartbeat is {age:.0f} s old (limit {max_age:.0f} s)"
    return None


def report(problem: str | None) -> int:
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m textclf_ops.healthcheck")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("url", nargs="?")
    target.add_argument("--file", type=Path)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--max-age", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.file is not None:
        return report(check_file_age(args.file, args.max_age))
    return report(check_url(args.url, args.timeout))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
