"""Typed readers for the process environment.

Only the settings package calls these, so every environment variable the service reads is
visible in config/settings/base.py. An empty value counts as unset (docker compose passes
`VAR: ${VAR:-}` through as an empty string), and a malformed value fails at start-up with the
variable's name instead of surfacing later as a confusing runtime error.
"""

import os
import re
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

# A default of None lets a settings module tell "unset" from an explicit value.
_Default = TypeVar("_Default", bool, int, None)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (docker/compose secrets).

    Setting both is refused (which one would win is a guess); an unreadable file fails at
    start-up with the variable's name. Surrounding whitespace (the trailing newline of
    `echo secret > file`) is dropped.
    """
    value = _raw(name)
    path = _raw(f"{name}_FILE")
    if path is None:
        return default if value is None else value
    if value is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    try:
        with open(path, encoding="utf-8") as handle:
            secret = handle.read().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path!r}: {exc.strerror}.") from None
    if not secret:
        raise ImproperlyConfigured(f"{name}_FILE: {path!r} is empty.")
    return secret


def env_bool(name: str, default: _Default) -> bool | _Default:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}.")


def env_int(name: str, default: _Default, *, minimum: int = 1) -> int | _Default:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A number strictly above `minimum` (timeouts: 0 would mean "wait forever")."""
    value = _raw(name)
    if value is None:
        return default
    number = _float(name, value)
    if not number > minimum:
        raise ImproperlyConfigured(f"{name} must be > {minimum}, got {number}.")
    return number


def env_fraction(name: str, default: float) -> float:
    """A number from 0 to 1 inclusive (sample rates)."""
    value = _raw(name)
    if value is None:
        return default
    number = _float(name, value)
    if not 0.0 <= number <= 1.0:
        raise ImproperlyConfigured(f"{name} must be between 0 and 1, got {number}.")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


_RATE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "6000/min" (checked here, not at the first request)."""
    value = env_str(name, default)
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must look like 6000/min (per s, min, h or day).")
    return value


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def require(value: object, name: str) -> None:
    """Fail fast when a setting that has no safe default was left unset."""
    if not value:
        raise ImproperlyConfigured(f"The {name} environment variable is required in production.")


# Every secret value that .env.example, docker-compose.yml or local.py ever shipped: anyone can
# read them, so production refuses them whatever their length. tests/config checks that the
# compose file's defaults are all listed here.
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


def refuse_weak(problems: list[str | None]) -> None:
    """Fail start-up naming every unfit secret at once, not just the first one."""
    found = [problem for problem in problems if problem]
    if found:
        raise ImproperlyConfigured(" ".join(found))
