import csv
import gzip
import os
import socket
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import token_create
from common.throttling import cache_circuit
from integrations.ml_service.client import get_ml_client
from tests.fake_ml_service import FakeMLService

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_CSV = Path(
    os.environ.get("DATA_CSV", REPO_ROOT / ".." / "shared" / "data" / "debian-packages.csv.gz")
)


def _client_with_token(user) -> APIClient:
    client = APIClient()
    _, key = token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="alice", password="alice-password")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(
        username="operator", password="operator-password", is_staff=True
    )


@pytest.fixture
def api_client(user) -> APIClient:
    """Authenticated with a real API token, as every client of the API is."""
    return _client_with_token(user)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return _client_with_token(staff_user)


@pytest.fixture(autouse=True)
def empty_cache():
    """The login throttles and revocation markers count in the cache: each test starts empty,
    with the throttle's circuit closed (a test that made the cache fail may have opened it)."""
    cache_circuit.reset()
    cache.clear()
    yield
    cache.clear()
    cache_circuit.reset()


@pytest.fixture(autouse=True)
def fresh_ml_client():
    """The client is cached per process; rebuild it so each test sees its own settings."""
    get_ml_client.cache_clear()
    yield
    get_ml_client.cache_clear()


@pytest.fixture
def ml_service(settings):
    """A stand-in ML service on a loopback port, which the client is configured to call;
    unregistered calls, and registrations never called, fail the test."""
    with FakeMLService(assert_all_requests_are_fired=True) as fake:
        settings.ML_SERVICE_URL = fake.url
        yield fake


@pytest.fixture
def ml_url(ml_service) -> str:
    return ml_service.url


@pytest.fixture
def closed_port() -> int:
    """A local TCP port with nothing listening: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def real_rows() -> list[dict[str, str]]:
    """Every 200th row of the real corpus (~320 rows, many labels, texts of all lengths)."""
    with gzip.open(DATA_CSV, "rt", encoding="utf-8", newline="") as handle:
        rows = [
            {"text": row["text"], "label": row["label"]}
            for index, row in enumerate(csv.DictReader(handle))
            if index % 200 == 0
        ]
    assert rows, f"no rows read from {DATA_CSV}"
    return rows
