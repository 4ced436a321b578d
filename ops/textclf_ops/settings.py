"""Settings from the environment through pydantic-settings, with one rule for every service.

A settings class declares each setting as a typed field with its default and bounds; the
variable is the field's name in upper case. `Settings(...)` takes values only (tests build them
freely); `Settings.from_env()` reads the process environment through `EnvironSource`:

- a blank value counts as unset (compose passes `VAR: ${VAR:-}` through as an empty string);
- a `SecretStr` field may come from NAME or from the file NAME_FILE names, never both
  (secrets.secret_from_env), and is hidden from repr and logs;
- a bad value fails at start with `SettingError`, naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from textclf_ops.secrets import SettingError, secret_from_env

LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]
LogFormat = Literal["json", "console"]


class EnvironSource(PydanticBaseSettingsSource):
    """The fields' values from an environment mapping, as strings for pydantic to validate."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = field_name.upper()
        if field.annotation is SecretStr:
            return secret_from_env(self.environ, name), name, False
        return self.environ.get(name, "").strip() or None, name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, field_name)
            if value is not None:
                values[field_name] = value
        return values


class EnvironSettings(BaseSettings):
    """Base of every settings class: frozen, unknown fields refused, environment via from_env."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what the caller passes: from_env is the one way the environment comes in.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Settings from `environ` (default: os.environ); unset variables keep their defaults."""
        values = EnvironSource(cls, os.environ if environ is None else environ)()
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingError(describe(exc, cls)) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, validated like the original (dataclasses.replace's role)."""
        return type(self)(**{**dict(self), **changes})


def describe(exc: ValidationError, settings_cls: type[BaseSettings]) -> str:
    """One sentence per bad value, naming its variable (and the value, unless a secret)."""
    problems = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        if not error["loc"]:  # a check across settings: its message names them
            problems.append(f"{message}.")
            continue
        field_name = str(error["loc"][0])
        field = settings_cls.model_fields.get(field_name)
        shown = (
            "" if field is None or field.annotation is SecretStr else f", got {error['input']!r}"
        )
        problems.append(f"{field_name.upper()}: {message}{shown}.")
    return " ".join(problems)


class LogSettings(EnvironSettings):
    """How a service logs: read the same way by its gunicorn master and by the app."""

    log_level: LogLevel = "INFO"
    # "json": one JSON object per line (containers); "console": readable lines for local runs.
    log_format: LogFormat = "json"
    # Lines are written in batches, at most this late; warnings and errors at once.
    log_flush_seconds: float = Field(default=1.0, gt=0)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class GunicornSettings(LogSettings):
    """The GUNICORN_* knobs both services' gunicorn.conf.py take (see gunicorn_conf)."""

    gunicorn_workers: int = Field(default=2, ge=1)
    gunicorn_threads: int = Field(default=4, ge=1)
    gunicorn_timeout: int = Field(default=60, ge=1)
    gunicorn_graceful_timeout: int = Field(default=30, ge=1)
    gunicorn_max_requests: int = Field(default=100_000, ge=0)
    gunicorn_max_requests_jitter: int = Field(default=10_000, ge=0)
    forwarded_allow_ips: str = "*"
