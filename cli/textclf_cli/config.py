"""Where the client keeps the server URL and the token: one TOML file per user, owner-only.

$XDG_CONFIG_HOME/textclf/config.toml (~/.config/... by default), the directory 0700 and the
file 0600, written to a temporary file and renamed so a crash never leaves half a token.
TEXTCLF_URL and TEXTCLF_TOKEN override the file (CI, containers, one-off calls).
TEXTCLF_CA_FILE names a PEM file of certificates to trust besides the usual ones (a staging
stack's self-signed certificate, a company CA).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

DEFAULT_URL = "http://localhost:8080"


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    ca_file: str | None = None


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "textclf"


def config_path() -> Path:
    return config_dir() / "config.toml"


def state_dir() -> Path:
    """Import resume records: state, not configuration (XDG's split)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "textclf" / "imports"


def load() -> Settings:
    stored: dict = {}
    path = config_path()
    if path.exists():
        with open(path, "rb") as handle:
            stored = tomllib.load(handle)
    url = os.environ.get("TEXTCLF_URL") or stored.get("url") or DEFAULT_URL
    token = os.environ.get("TEXTCLF_TOKEN") or stored.get("token") or None
    ca_file = os.environ.get("TEXTCLF_CA_FILE") or None
    return Settings(url=url.rstrip("/"), token=token, ca_file=ca_file)


def save(settings: Settings) -> Path:
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)  # mkdir's mode is masked by the umask, and an old dir keeps its own
    path = config_path()
    temporary = path.with_suffix(".toml.tmp")
    document = {"url": settings.url, **({"token": settings.token} if settings.token else {})}
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        tomli_w.dump(document, handle)
    os.replace(temporary, path)
    return path
