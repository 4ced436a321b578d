"""The public API as a consumer sees it through nginx: a token, training jobs, predictions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import requests

from bench.stack import ADMIN_PASSWORD, ADMIN_USERNAME

# An idle worker starts a job within a second; this long in the queue means none is consuming it.
MAX_QUEUED_SECONDS = 60


class ServiceError(RuntimeError):
    """The service answered something the bench cannot go on with."""


class PublicApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    @property
    def token(self) -> str:
        return self.session.headers["Authorization"].removeprefix("Token ")

    def log_in(self) -> None:
        response = self.session.post(
            f"{self.base_url}/api/auth/token/",
            json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            timeout=30,
        )
        _expect(response, 200)
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", params=params or None, timeout=60)

    def post(self, path: str, payload: object) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=payload, timeout=60)

    def train(self, *, timeout: float) -> tuple[dict, float]:
        """Run one training job; (its final record, seconds from POST to a final status).

        The end is the job's own finished_at (the containers share the host's clock), so the
        polling interval does not blur the wall time. Raises TimeoutError, with the job id, when
        the job is still active after `timeout` seconds.
        """
        posted_at = datetime.now(UTC)
        response = self.post("/api/train/", None)
        _expect(response, 202)
        job_id = response.json()["job_id"]
        poll = 0.1
        while (waited := (datetime.now(UTC) - posted_at).total_seconds()) < timeout:
            job = self.get(f"/api/train/{job_id}/").json()
            if job["status"] in ("succeeded", "failed"):
                finished_at = datetime.fromisoformat(job["finished_at"])
                return job, (finished_at - posted_at).total_seconds()
            if job["status"] == "queued" and waited > MAX_QUEUED_SECONDS:
                raise ServiceError(f"job {job_id} still queued after {waited:.0f} s: no worker")
            time.sleep(poll)
            poll = min(poll * 1.5, 1.0)  # fine-grained for the short jobs, gentle for the long
        raise TimeoutError(job_id)


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        request = response.request
        raise ServiceError(
            f"{request.method} {request.url}: {response.status_code} {response.text[:300]}"
        )
