"""Zoho's error envelope: {"code", "details", "message", "status": "error"}.

Messages are copied from the `message` enums of Zoho's OpenAPI files where one fits, so that
answers validate against the official spec.
"""

from __future__ import annotations

from typing import Any


class ZohoError(Exception):
    """An error answered as Zoho's envelope with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


def invalid_token() -> ZohoError:
    return ZohoError(401, "INVALID_TOKEN", "invalid oauth token")


def invalid_url() -> ZohoError:
    return ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")


def invalid_method() -> ZohoError:
    return ZohoError(405, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")


def invalid_module(**details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_MODULE", "The module name given seems to be invalid", details)


def param_missing(name: str) -> ZohoError:
    return ZohoError(
        400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param_name": name}
    )


def invalid_param(name: str, **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": name, **details})


def internal_error() -> dict[str, Any]:
    return error_body("INTERNAL_ERROR", "Internal server error occurred.")


def too_many_requests(message: str, **details: Any) -> ZohoError:
    return ZohoError(429, "TOO_MANY_REQUESTS", message, details)


def too_many_in_flight(limit: int) -> ZohoError:
    """More calls in flight than the edition's (or COQL's) concurrency cap allows."""
    return too_many_requests(
        "too many requests. please try again after some time",
        reason="concurrency limit exceeded",
        limit=limit,
    )


def credits_exhausted(limit: int) -> ZohoError:
    """The org has spent its API credits of the rolling 24 hours. Zoho documents only the 429
    TOO_MANY_REQUESTS status and code for it, no Retry-After; the message names the credits so
    a client can tell it from a concurrency 429, and X-API-CREDITS-REMAINING says 0."""
    error = too_many_requests(
        "You have reached the maximum API credits allowed for the 24-hour period",
        reason="api credits exhausted",
        limit=limit,
    )
    error.headers["X-API-CREDITS-REMAINING"] = "0"
    return error
