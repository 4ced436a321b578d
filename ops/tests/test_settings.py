from typing import Literal

import pytest
from pydantic import Field, SecretStr

from textclf_ops.secrets import SettingError
from textclf_ops.settings import EnvironSettings, GunicornSettings, LogSettings


class Example(EnvironSettings):
    port: int = Field(default=8000, ge=1, le=65535)
    mode: Literal["a", "b"] = "a"
    token: SecretStr = SecretStr("dev-token")


def test_unset_and_blank_variables_keep_the_defaults():
    settings = Example.from_env({"PORT": "  ", "MODE": ""})
    assert (settings.port, settings.mode, settings.token.get_secret_value()) == (
        8000,
        "a",
        "dev-token",
    )


def test_each_field_reads_its_name_in_upper_case():
    settings = Example.from_env({"PORT": " 9000 ", "MODE": "b", "TOKEN": "t", "port": "1"})
    assert (settings.port, settings.mode, settings.token.get_secret_value()) == (9000, "b", "t")


def test_constructing_reads_no_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    assert Example().port == 8000
    assert Example.from_env().port == 9000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "eighty"}, "PORT: Input should be a valid integer.*got 'eighty'"),
        ({"PORT": "0"}, "PORT: Input should be greater than or equal to 1"),
        ({"MODE": "c"}, "MODE: Input should be 'a' or 'b', got 'c'"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(environ, message):
    with pytest.raises(SettingError, match=message):
        Example.from_env(environ)


def test_every_bad_value_is_named_at_once():
    with pytest.raises(SettingError) as exc:
        Example.from_env({"PORT": "0", "MODE": "c"})
    assert "PORT:" in str(exc.value)
    assert "MODE:" in str(exc.value)


def test_a_secret_may_come_from_its_file_and_stays_hidden(tmp_path):
    path = tmp_path / "token"
    path.write_text("from-the-file\n")

    settings = Example.from_env({"TOKEN_FILE": str(path)})

    assert settings.token.get_secret_value() == "from-the-file"
    assert "from-the-file" not in repr(settings)


def test_a_secret_set_twice_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("from-the-file\n")
    with pytest.raises(SettingError, match="Set TOKEN or TOKEN_FILE, not both"):
        Example.from_env({"TOKEN": "x", "TOKEN_FILE": str(path)})


def test_a_bad_secret_is_named_but_not_echoed():
    class Strict(EnvironSettings):
        token: SecretStr = Field(default=SecretStr("x"), min_length=10)

    with pytest.raises(SettingError, match="TOKEN:") as exc:
        Strict.from_env({"TOKEN": "short-one"})
    assert "short-one" not in str(exc.value)


def test_settings_are_frozen_and_replace_validates():
    settings = Example()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1
    assert settings.replace(port=9000).port == 9000
    with pytest.raises(ValueError, match="port"):
        settings.replace(port=0)


def test_log_settings_normalise_case_and_refuse_unknown_values():
    settings = LogSettings.from_env({"LOG_LEVEL": "debug", "LOG_FORMAT": "CONSOLE"})
    assert (settings.log_level, settings.log_format) == ("DEBUG", "console")
    with pytest.raises(SettingError, match="LOG_FORMAT"):
        LogSettings.from_env({"LOG_FORMAT": "xml"})
    with pytest.raises(SettingError, match="LOG_FLUSH_SECONDS"):
        LogSettings.from_env({"LOG_FLUSH_SECONDS": "0"})


def test_gunicorn_settings_defaults_fit_the_two_core_host():
    settings = GunicornSettings.from_env({})
    assert (settings.gunicorn_workers, settings.gunicorn_threads) == (2, 4)
    assert (settings.gunicorn_timeout, settings.gunicorn_graceful_timeout) == (60, 30)
