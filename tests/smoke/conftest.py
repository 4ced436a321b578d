"""The smoke suite: a few minutes against any running stage, through its public URL only.

`scripts/deploy smoke STAGE` (`make smoke STAGE=...`) sets these from the stage's env file and
records the outcome, which `promote` requires:
  SMOKE_URL, SMOKE_USERNAME / SMOKE_PASSWORD (a staff user), SMOKE_OPS_USER / SMOKE_OPS_PASSWORD
  (Prometheus behind nginx), SMOKE_CA_FILE (the certificate to trust over https, optional),
  SMOKE_TRAIN (1: train on the bundled sample; 0: leave the stage's models alone).
"""

from __future__ import annotations

import os

import pytest
import requests


class Client:
    def __init__(self, base_url: str, ca_file: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        # Per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        self.verify = ca_file or True

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("verify", self.verify)
        return self.session.request(method, self.base_url + path, **kwargs)


@pytest.fixture(scope="session")
def settings() -> dict[str, str]:
    if not os.environ.get("SMOKE_URL"):
        pytest.exit("SMOKE_URL is not set: run it through `make smoke STAGE=...`", returncode=2)
    return {
        "username": os.environ.get("SMOKE_USERNAME", "admin"),
        "password": os.environ.get("SMOKE_PASSWORD", "admin"),
        "ops": (
            os.environ.get("SMOKE_OPS_USER", "ops"),
            os.environ.get("SMOKE_OPS_PASSWORD", "ops"),
        ),
        "train": os.environ.get("SMOKE_TRAIN", "1") == "1",
    }


@pytest.fixture(scope="session")
def anonymous() -> Client:
    return Client(os.environ.get("SMOKE_URL", ""), os.environ.get("SMOKE_CA_FILE") or None)


@pytest.fixture(scope="session")
def token(anonymous, settings) -> str:
    credentials = {"username": settings["username"], "password": settings["password"]}
    response = anonymous.request("POST", "/api/auth/token/", json=credentials)
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture(scope="session")
def api(anonymous, token) -> Client:
    client = Client(anonymous.base_url, os.environ.get("SMOKE_CA_FILE") or None)
    client.session.headers["Authorization"] = f"Token {token}"
    return client
