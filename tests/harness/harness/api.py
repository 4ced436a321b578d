"""A small client for the public API, as a consumer sees it through nginx."""

from __future__ import annotations

import time

import requests


class Api:
    def __init__(self, base_url: str, token: str | None = None, *, ca_file: str | None = None):
        self.base_url = base_url
        self.session = requests.Session()
        # Over https (the prod profile) the server's certificate is checked against this one.
        if ca_file:
            self.session.verify = ca_file
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def wait_for_job(self, job_id: str, *, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"/api/train/{job_id}/").json()
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(1)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")

    def wait_until_ready(self, *, timeout: float = 120) -> None:
        """After a restart nginx may answer before its upstreams do."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/api/health/", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(1)
        raise AssertionError("the stack did not become ready")
