"""The one HTTP client of the CLI: base URL, token, timeouts, and every API error turned into
one readable sentence with an exit code (ApiError)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx

# Exit codes, also listed in `textclf --help`.
EXIT_API = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_AUTH = 4
EXIT_REJECTED = 5
EXIT_RATE_LIMITED = 6

# A 429 with a short Retry-After is waited out this many times before giving up.
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_MAX_WAIT = 30.0


class ApiError(Exception):
    def __init__(
        self,
        message: str,
        *,
        exit_code: int = EXIT_API,
        status: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.status = status
        self.body = body


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the delta form; the HTTP-date form is not sent by this API)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"].rstrip(".")
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def describe(response: httpx.Response) -> ApiError:
    """The one-line message for an error answer, with the hint of what to do next."""
    status = response.status_code
    body = _body(response)
    detail = _detail(body, response)
    path = response.request.url.path if response.request else ""
    if status == 401:
        message = f"Not authenticated ({detail}). Log in again: textclf login"
        return ApiError(message, exit_code=EXIT_AUTH, status=status, body=body)
    if status == 403:
        needs = " Training needs a staff account." if path.startswith("/api/train") else ""
        return ApiError(
            f"Forbidden: {detail}.{needs}", exit_code=EXIT_AUTH, status=status, body=body
        )
    if status == 409:
        job_id = body.get("job_id") if isinstance(body, dict) else None
        if job_id:
            message = (
                f"Conflict: {detail} (active job {job_id}; "
                f"follow it: textclf train --follow --job {job_id})."
            )
        elif path.startswith("/api/predict"):
            message = f"No model to predict with yet ({detail}). Run textclf train first."
        else:
            message = f"Conflict: {detail}."
        return ApiError(message, status=status, body=body)
    if status == 413:
        return ApiError(
            f"Request too large for the server ({detail}). Use a smaller --batch-size.",
            status=status,
            body=body,
        )
    if status == 429:
        wait = retry_after_seconds(response)
        when = f"in {wait:g} s" if wait is not None else "later"
        return ApiError(
            f"Rate-limited ({detail}). Try again {when}.",
            exit_code=EXIT_RATE_LIMITED,
            status=status,
            body=body,
        )
    if status == 503:
        return ApiError(
            f"Service unavailable: {detail}. Try again shortly.", status=status, body=body
        )
    return ApiError(f"{detail} (HTTP {status}).", status=status, body=body)


def _ssl_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=ca_file)
    return context


class Client:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "textclf-cli/0.1"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            # A CA file adds to the default trust (certifi), it does not replace it.
            verify=_ssl_context(ca_file) if ca_file else True,
        )
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, wait_on_429: bool = True, **kwargs) -> Any:
        """The decoded JSON body of a 2xx answer (None for 204); ApiError otherwise.

        A 429 is retried after its Retry-After when that is short: a throttled request was not
        processed, so sending it again cannot duplicate anything.
        """
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            response = self._send(method, path, **kwargs)
            if response.status_code != 429 or not wait_on_429 or attempt == RATE_LIMIT_RETRIES:
                break
            wait = retry_after_seconds(response)
            if wait is None or wait > RATE_LIMIT_MAX_WAIT:
                break
            self._sleep(wait)
        if response.is_success:
            return None if response.status_code == 204 else response.json()
        raise describe(response)

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise ApiError(
                f"Cannot connect to {self.url} ({_reason(exc)}). Is the stack up (make up)?",
                exit_code=EXIT_CONNECTION,
            ) from exc
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"{self.url} did not answer in time ({type(exc).__name__}).",
                exit_code=EXIT_CONNECTION,
            ) from exc
        except httpx.TransportError as exc:
            raise ApiError(
                f"Connection to {self.url} failed ({_reason(exc)}).", exit_code=EXIT_CONNECTION
            ) from exc

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.request("POST", path, **kwargs)

    def relative(self, link: str) -> str:
        """A `next` link as a path on our own base URL (the server may name another host)."""
        parts = urlsplit(link)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return text
