"""The only module that talks to the ML service over HTTP.

One `requests.Session` per process keeps a pool of keep-alive connections (one per gunicorn
thread). Every call has a (connect, read) timeout, so a dead service costs a request at most
the connect timeout (refused: milliseconds) before it becomes a 503.
"""

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from integrations.ml_service.exceptions import MLServiceRejected, MLServiceUnavailable
from observability.request_id import HEADER as request_id_header
from observability.request_id import request_id_current


@dataclass(frozen=True)
class MLResponse:
    """A successful (2xx) answer: the status to relay (200 or 202) and its JSON object."""

    status_code: int
    body: dict[str, Any]
    # The answer's bytes as received, so a large answer can be relayed without re-encoding it.
    content: bytes = b""


class MLServiceClient:
    def __init__(
        self,
        *,
        base_url: str,
        service_token: str,
        connect_timeout: float,
        read_timeout: float,
        pool_size: int,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        # The service is on the internal network: no proxy or .netrc from the environment, and
        # not reading them saves scanning os.environ twice per call.
        self.session.trust_env = False
        # No retries: a POST /train must never be sent twice, and a failed GET is cheaper
        # to retry from the client than to hold a gunicorn thread for.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # The shared secret the ML API demands of every internal caller.
        self.session.headers.update(
            {"Accept": "application/json", "X-Service-Token": service_token}
        )

    def train(self) -> MLResponse:
        return self._request("POST", "/train")

    def get_job(self, job_id: str) -> MLResponse:
        return self._request("GET", f"/train/{job_id}")

    def list_jobs(self, *, limit: int | None = None) -> MLResponse:
        params = {"limit": limit} if limit is not None else None
        return self._request("GET", "/train", params=params)

    def predict(self, payload: dict[str, Any]) -> MLResponse:
        return self._request("POST", "/predict", json=payload)

    def list_models(self) -> MLResponse:
        return self._request("GET", "/models")

    def activate_model(self, version: str) -> MLResponse:
        return self._request("POST", f"/models/{quote(version, safe='')}/activate")

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> MLResponse:
        url = f"{self.base_url}{path}"
        # The ML API logs under the same id and hands it on to the Celery task.
        request_id = request_id_current()
        headers = {request_id_header: request_id} if request_id else None
        try:
            response = self.session.request(
                method, url, json=json, params=params, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise MLServiceUnavailable(f"{method} {url}: {exc}") from exc

        if response.status_code >= 500:
            raise MLServiceUnavailable(f"{method} {url}: HTTP {response.status_code}")
        body = _json_object(response)
        if body is None:
            raise MLServiceUnavailable(f"{method} {url}: HTTP {response.status_code}, not JSON")
        if response.status_code >= 400:
            body.setdefault("detail", f"The ML service answered {response.status_code}.")
            raise MLServiceRejected(response.status_code, body)
        return MLResponse(status_code=response.status_code, body=body, content=response.content)


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@functools.cache
def get_ml_client() -> MLServiceClient:
    """The process-wide client, built on first use (after gunicorn forks its workers)."""
    return MLServiceClient(
        base_url=settings.ML_SERVICE_URL,
        service_token=settings.ML_SERVICE_TOKEN,
        connect_timeout=settings.ML_SERVICE_CONNECT_TIMEOUT,
        read_timeout=settings.ML_SERVICE_READ_TIMEOUT,
        pool_size=settings.ML_SERVICE_POOL_SIZE,
    )
