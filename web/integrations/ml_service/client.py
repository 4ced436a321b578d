"""The only module that talks to the ML service over HTTP.

One urllib3 connection pool per process keeps a keep-alive connection per gunicorn thread.
Every call has a (connect, read) timeout, so a dead service costs a request at most the connect
timeout (refused: milliseconds) before it becomes a 503. urllib3 rather than requests: this is
the hot path of every prediction, and requests' session machinery (cookies, hooks, settings
merges) cost more CPU per call than the pool itself (BENCHMARKS.md, "History").
"""

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from django.conf import settings
from textclf_ops.request_id import HEADER as request_id_header
from textclf_ops.request_id import request_id_current
from urllib3.exceptions import HTTPError, ProtocolError

from integrations.ml_service.exceptions import MLServiceRejected, MLServiceUnavailable


@dataclass(frozen=True)
class MLResponse:
    """A successful (2xx) answer: the status to relay (200 or 202) and its JSON object."""

    status_code: int
    body: dict[str, Any]
    # The answer's bytes as received, so a large answer can be relayed without re-encoding it.
    content: bytes = b""


# The authenticated user behind a stage change (nginx sets the same for /ml/).
ACTOR_HEADER = "X-Actor"


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
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        # No retries: a POST /train must never be sent twice, and a failed GET is cheaper
        # to retry from the client than to hold a gunicorn thread for.
        self.pool = urllib3.connection_from_url(
            self.base_url, maxsize=pool_size, retries=False, timeout=self.timeout
        )
        self._path_prefix = urllib3.util.parse_url(self.base_url).path or ""
        # The shared secret the ML API demands of every internal caller.
        self.headers = {"Accept": "application/json", "X-Service-Token": service_token}

    def train(self, *, force: bool = False) -> MLResponse:
        return self._request("POST", "/train", json_body={"force": True} if force else None)

    def get_job(self, job_id: str) -> MLResponse:
        return self._request("GET", f"/train/{job_id}")

    def list_jobs(self, *, limit: int | None = None) -> MLResponse:
        params = {"limit": limit} if limit is not None else None
        return self._request("GET", "/train", params=params)

    def predict(self, payload: dict[str, Any]) -> MLResponse:
        return self._request("POST", "/predict", json_body=payload)

    def list_models(self) -> MLResponse:
        return self._request("GET", "/models")

    def get_model(self, version: str) -> MLResponse:
        return self._request("GET", f"/models/{quote(version, safe='')}")

    def activate_model(self, version: str, *, actor: str | None = None) -> MLResponse:
        return self._request("POST", f"/models/{quote(version, safe='')}/activate", actor=actor)

    def promote_model(self, version: str, *, reason: str, actor: str) -> MLResponse:
        return self._change_stage(version, "promote", reason=reason, actor=actor)

    def rollback_model(self, version: str, *, reason: str, actor: str) -> MLResponse:
        return self._change_stage(version, "rollback", reason=reason, actor=actor)

    def _change_stage(self, version: str, change: str, *, reason: str, actor: str) -> MLResponse:
        return self._request(
            "POST",
            f"/models/{quote(version, safe='')}/{change}",
            json_body={"reason": reason},
            actor=actor,
        )

    def list_stage_changes(
        self, *, version: str | None = None, limit: int | None = None
    ) -> MLResponse:
        params = {
            name: value
            for name, value in (("version", version), ("limit", limit))
            if value is not None
        }
        return self._request("GET", "/models/stage-changes", params=params or None)

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> MLResponse:
        url = f"{self._path_prefix}{path}"
        if params:
            url = f"{url}?{urlencode(params)}"
        headers = dict(self.headers)
        # The ML API logs under the same id and hands it on to the Celery task.
        if request_id := request_id_current():
            headers[request_id_header] = request_id
        if actor:
            # Who changed a model's stage, for the ML API's audit records.
            headers[ACTOR_HEADER] = actor
        body = None
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        where = f"{method} {self.base_url}{url}"
        # Reads and predictions change nothing, so one whose keep-alive connection the ML API
        # closed under it (a container being replaced, a worker recycled) goes once more.
        attempts = 2 if method == "GET" or path == "/predict" else 1
        for attempt in range(attempts):
            try:
                response = self.pool.urlopen(method, url, body=body, headers=headers)
                break
            except ProtocolError as exc:  # the connection closed or reset before an answer
                if attempt + 1 == attempts:
                    raise MLServiceUnavailable(f"{where}: {exc}") from exc
            except HTTPError as exc:  # refused, timed out, malformed answer
                raise MLServiceUnavailable(f"{where}: {exc}") from exc

        if response.status >= 500:
            raise MLServiceUnavailable(f"{where}: HTTP {response.status}")
        content = response.data
        answer = _json_object(content)
        if answer is None:
            raise MLServiceUnavailable(f"{where}: HTTP {response.status}, not JSON")
        if response.status >= 400:
            answer.setdefault("detail", f"The ML service answered {response.status}.")
            raise MLServiceRejected(response.status, answer)
        return MLResponse(status_code=response.status, body=answer, content=content)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(content)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


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
