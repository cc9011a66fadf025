"""Errors raised by the data-access layer.

Messages name the record and the problem, never attribute values: token items
hold secrets, and these messages end up in logs.
"""

from __future__ import annotations

from chalicelib.errors import RetriableError


class StoreError(Exception):
    """Base class for storage problems that callers may want to tell apart."""


class StaleStateError(StoreError):
    """A conditional write lost a race: the stored version is not the one we read.

    The caller should re-read, re-apply its change and try again (or give up).
    """

    def __init__(self, account_id: str, expected_version: int) -> None:
        super().__init__(f"Account {account_id} changed since version {expected_version} was read")
        self.account_id = account_id
        self.expected_version = expected_version


class InvalidCursorError(StoreError, ValueError):
    """A paging cursor was not produced by us, or belongs to another listing (HTTP 400)."""


class StoreThrottledError(StoreError, RetriableError):
    """DynamoDB kept returning unprocessed items after our retries; try again later."""

    def __init__(self, operation: str, remaining: int) -> None:
        message = "The database is busy; please try again in a minute."
        RetriableError.__init__(self, message, detail=f"{operation}: {remaining} item(s) still unprocessed")
