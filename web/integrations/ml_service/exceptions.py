from typing import Any


class MLServiceError(Exception):
    """Base class for every failure reported by the ML service client."""


class MLServiceUnavailable(MLServiceError):
    """The ML service could not answer: refused, timed out, 5xx or an unreadable body.

    The API maps it to 503; `reason` is for the logs, never for clients.
    """

    def __init__(self, reason: str) -> None:
        super().__init__("The ML service is unavailable; try again shortly.")
        self.reason = reason


class MLServiceRejected(MLServiceError):
    """The ML service answered 4xx; its status and JSON body go back to the client as-is."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(f"The ML service rejected the request with {status_code}.")
        self.status_code = status_code
        self.body = body
