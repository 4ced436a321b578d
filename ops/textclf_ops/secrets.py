"""Secrets from the environment, and what production refuses as one.

A secret NAME may come from the variable itself or from the file that NAME_FILE names (docker
and compose secrets), never both: setting both is refused, naming the setting, because which one
wins would be a guess. Surrounding whitespace (the newline of `echo secret > file`) is dropped.
The prod overlay's secrets_check and both services' settings use these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class SettingError(ValueError):
    """A setting holds a value the service cannot start with; the message names the setting."""


def secret_from_env(environ: Mapping[str, str], name: str) -> str | None:
    """NAME's value, or the content of the file NAME_FILE names; None when neither is set.

    Blank values count as unset (compose passes `VAR: ${VAR:-}` through as an empty string).
    """
    value = environ.get(name, "").strip() or None
    path = environ.get(f"{name}_FILE", "").strip()
    if not path:
        return value
    if value is not None:
        raise SettingError(f"Set {name} or {name}_FILE, not both.")
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingError(f"{name}_FILE: cannot read {path!r}: {exc.strerror}.") from None
    if not secret:
        raise SettingError(f"{name}_FILE: {path!r} is empty.")
    return secret


# Every secret value that .env.example, docker-compose.yml or a development settings module ever
# shipped: anyone can read them, so production refuses them whatever their length. The services'
# tests check that the compose file's defaults are all listed here.
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
# Machine-held keys, tokens and passwords: `make secrets` generates 43 characters.
SECRET_MIN_LENGTH = 32


def weak_secret(name: str, value: str | None, *, min_length: int = SECRET_MIN_LENGTH) -> str | None:
    """Why `value` is unfit as the production secret `name`, or None if it is fit."""
    if not value:
        return f"The {name} environment variable is required in production."
    if value in DEVELOPMENT_SECRETS or value.startswith("django-insecure"):
        return f"{name} is a development value; generate one with `make secrets`."
    if len(value) < min_length:
        return f"{name} must be at least {min_length} characters long; got {len(value)}."
    return None
