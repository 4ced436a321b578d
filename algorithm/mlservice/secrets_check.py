"""What production refuses as a secret, in one place for the ML service and the prod overlay.

`Settings` applies `weak_secret` to its own secrets when ENVIRONMENT=production. The prod
overlay's one-shot `secrets_check` service runs this module over the secrets of the containers
whose entrypoints are not ours (db, redis, nginx, Flower, Grafana), before any of them starts:

    python -m mlservice.secrets_check POSTGRES_PASSWORD REDIS_PASSWORD ...

Each NAME is read from the environment, or from the file NAME_FILE names (Docker secrets).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# Every secret value that .env.example or docker-compose.yml ever shipped, and the defaults of
# `Settings`' secrets: anyone can read them, so production refuses them whatever their length.
# The tests check that the compose file's defaults are all listed.
DEVELOPMENT_SECRETS = frozenset(
    {
        "admin",
        "ops",
        "textclf",
        "textclf_ml",
        "textclf_web",
        "dev-ml-service-token",
        "dev-model-signing-key",
        "django-insecure-local-only-never-use-in-production",
    }
)
# Keys, tokens and passwords that machines hold: `make secrets` generates 43 characters.
SECRET_MIN_LENGTH = 32


def weak_secret(name: str, value: str | None, *, min_length: int = SECRET_MIN_LENGTH) -> str | None:
    """Why `value` is unfit as the production secret `name`, or None if it is fit."""
    if not value:
        return f"{name} is required in production."
    if value in DEVELOPMENT_SECRETS:
        return f"{name} is a development value; generate one with `make secrets`."
    if len(value) < min_length:
        return f"{name} must be at least {min_length} characters long; got {len(value)}."
    return None


def read(environ: Mapping[str, str], name: str) -> str:
    path = environ.get(f"{name}_FILE", "").strip()
    if not path:
        return environ.get(name, "").strip()
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        return f"<{name}_FILE cannot be read: {exc.strerror}>"


def main(names: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    problems = [problem for name in names if (problem := weak_secret(name, read(env, name)))]
    for problem in problems:
        print(f"secrets_check: {problem}", file=sys.stderr)
    if not problems:
        print(f"secrets_check: {len(names)} secrets fit for production.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
