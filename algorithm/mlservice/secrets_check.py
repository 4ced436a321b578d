"""The prod overlay's one-shot `secrets_check` service: it runs this module over the secrets of
the containers whose entrypoints are not ours (db, redis, nginx, Flower, Grafana), before any of
them starts:

    python -m mlservice.secrets_check POSTGRES_PASSWORD REDIS_PASSWORD ...

Each NAME is read as every setting is (textclf_ops.secrets): from the environment, or from the
file NAME_FILE names (Docker secrets), never both; production refuses what `weak_secret` does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from textclf_ops.secrets import SettingError, secret_from_env, weak_secret


def problem(environ: Mapping[str, str], name: str) -> str | None:
    try:
        return weak_secret(name, secret_from_env(environ, name))
    except SettingError as exc:
        return str(exc)


def main(names: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    problems = [found for name in names if (found := problem(env, name))]
    for found in problems:
        print(f"secrets_check: {found}", file=sys.stderr)
    if not problems:
        print(f"secrets_check: {len(names)} secrets fit for production.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
