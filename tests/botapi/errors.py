"""Bot API errors in the shape Telegram sends them."""

from __future__ import annotations

import math


class ApiError(Exception):
    """A failed method call, sent as `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict:
        """Build the response body Telegram sends for this error."""
        body: dict = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 error whose description starts with "Bad Request: " as Telegram's do."""
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: float) -> ApiError:
    """Build a 429 flood-control error; Telegram sends whole seconds, at least 1."""
    seconds = max(1, math.ceil(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def unauthorized() -> ApiError:
    """Build the 401 error Telegram sends for a token it does not know."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """Build the 404 error Telegram sends for an unknown method."""
    return ApiError(404, "Not Found")


def conflict(detail: str) -> ApiError:
    """Build a 409 error, which Telegram uses for competing getUpdates calls and webhooks."""
    return ApiError(409, f"Conflict: {detail}")
