"""Typed readers for the process environment, over django-environ (and the shared secret rule).

Only the settings package calls these, so every environment variable the service reads is
visible in config/settings/base.py. django-environ parses the values; what it leaves to us is
kept here: an empty value counts as unset (docker compose passes `VAR: ${VAR:-}` through as an
empty string), bounds and choices are checked, and a malformed value fails at start-up with the
variable's name instead of surfacing later as a confusing runtime error. Secrets follow the
rule both services share (textclf_ops.secrets): NAME, or the file NAME_FILE names, not both.
The logging and gunicorn settings are read by textclf_ops.settings, as gunicorn reads them.
"""

import os
import re
from collections.abc import Callable
from typing import TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured
from textclf_ops.secrets import SettingError, secret_from_env

# A default of None lets a settings module tell "unset" from an explicit value.
_Default = TypeVar("_Default", bool, int, None)
_T = TypeVar("_T")

_env = environ.Env()
# django-environ reads anything outside its true strings as false; a typo must not.
_BOOLEANS = frozenset({*environ.Env.BOOLEAN_TRUE_STRINGS, "false", "off", "no", "n", "0"})


def _raw(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _parsed(name: str, parse: Callable[[str], _T], what: str) -> _T:
    try:
        return parse(name)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {_raw(name)!r}.") from None


def env_str(name: str, default: str) -> str:
    return default if _raw(name) is None else _env.str(name).strip()


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (docker/compose secrets)."""
    try:
        secret = secret_from_env(os.environ, name)
    except SettingError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    return default if secret is None else secret


def env_bool(name: str, default: _Default) -> bool | _Default:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in _BOOLEANS:
        raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}.")
    return _env.bool(name)


def env_int(name: str, default: _Default, *, minimum: int = 1) -> int | _Default:
    if _raw(name) is None:
        return default
    number = _parsed(name, _env.int, "an integer")
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A number strictly above `minimum` (timeouts: 0 would mean "wait forever")."""
    if _raw(name) is None:
        return default
    number = _parsed(name, _env.float, "a number")
    if not number > minimum:
        raise ImproperlyConfigured(f"{name} must be > {minimum}, got {number}.")
    return number


def env_fraction(name: str, default: float) -> float:
    """A number from 0 to 1 inclusive (sample rates)."""
    if _raw(name) is None:
        return default
    number = _parsed(name, _env.float, "a number")
    if not 0.0 <= number <= 1.0:
        raise ImproperlyConfigured(f"{name} must be between 0 and 1, got {number}.")
    return number


_RATE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "6000/min" (checked here, not at the first request)."""
    value = env_str(name, default)
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must look like 6000/min (per s, min, h or day).")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    if _raw(name) is None:
        return list(default)
    return [item.strip() for item in _env.list(name) if item.strip()]


def require(value: object, name: str) -> None:
    """Fail fast when a setting that has no safe default was left unset."""
    if not value:
        raise ImproperlyConfigured(f"The {name} environment variable is required in production.")


def refuse_weak(problems: list[str | None]) -> None:
    """Fail start-up naming every unfit secret at once, not just the first one."""
    found = [problem for problem in problems if problem]
    if found:
        raise ImproperlyConfigured(" ".join(found))
