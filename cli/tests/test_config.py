import stat

import pytest

from textclf_cli import config


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("TEXTCLF_URL", raising=False)
    monkeypatch.delenv("TEXTCLF_TOKEN", raising=False)
    return tmp_path


def test_saved_owner_only(home):
    path = config.save(config.Settings(url="http://h:1", token="secret"))
    assert path == home / "cfg" / "textclf" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.load() == config.Settings(url="http://h:1", token="secret")


def test_an_existing_open_directory_is_closed(home):
    (home / "cfg" / "textclf").mkdir(parents=True, mode=0o755)
    config.save(config.Settings(url="http://h:1", token="t"))
    assert stat.S_IMODE((home / "cfg" / "textclf").stat().st_mode) == 0o700


def test_environment_overrides_the_file(monkeypatch):
    config.save(config.Settings(url="http://h:1", token="file-token"))
    monkeypatch.setenv("TEXTCLF_URL", "http://env:2/")
    monkeypatch.setenv("TEXTCLF_TOKEN", "env-token")
    assert config.load() == config.Settings(url="http://env:2", token="env-token")


def test_defaults_without_a_file():
    assert config.load() == config.Settings(url=config.DEFAULT_URL, token=None)


def test_a_ca_file_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEXTCLF_CA_FILE", "/etc/textclf/staging.pem")
    assert config.load().ca_file == "/etc/textclf/staging.pem"
