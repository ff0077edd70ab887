"""Errors the API answers with: a status code and a clear message, always as JSON `{"error": ...}`."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """Raised by handlers; the error middleware turns it into a JSON response."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, message)


def unavailable(message: str, retry_after_s: int = 5) -> ApiError:
    return ApiError(503, message, headers={"Retry-After": str(retry_after_s)})


def too_many(message: str, retry_after_s: int) -> ApiError:
    return ApiError(429, message, headers={"Retry-After": str(max(1, retry_after_s))})
