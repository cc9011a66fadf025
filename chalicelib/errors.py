"""Error taxonomy (after singer-sdk): every failure says, in plain words, what to fix.

- RejectedError: the data in Zoho cannot go to Xero as it is; a person must fix it.
  Never retried. Shown as "Rejected" on the Account.
- RetriableError: a passing fault (timeout, 429, 5xx, lost connection). Retried
  through the queue; shown as "Failed" only when the retries run out.
- FatalError: nothing will work until someone changes a connection or a setting
  (revoked token, wrong tenant, missing configuration). Not retried. "Failed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class SyncError(Exception):
    """Base class. `message` is written for a finance or sales user."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Technical detail for logs and the portal; never contains secrets.
        self.detail = detail


class RejectedError(SyncError):
    """The Account's data must be fixed before it can be synced."""


class ArchivedInXeroError(RejectedError):
    """The Account's Xero contact is archived: nothing syncs either way until it is restored."""


class ConflictError(RejectedError):
    """Xero already holds a different contact that this Account would collide with."""


class RetriableError(SyncError):
    """A passing fault; trying again later is expected to work."""

    def __init__(self, message: str, *, detail: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class RateLimitedError(RetriableError):
    """The remote API asked us to slow down (HTTP 429)."""

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        retry_after: float | None = None,
        problem: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail, retry_after=retry_after)
        self.problem = problem  # Xero: "minute", "day" or "concurrent"


class DeadlineExceededError(RetriableError):
    """The time budget for this attempt ran out; the work continues in the background."""


class FatalError(SyncError):
    """A connection or setting must be changed before anything can sync."""


class InvalidRequestError(Exception):
    """A request to our own API is malformed (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validation_problems(error: ValidationError, top_level: str = "") -> list[str]:
    """What pydantic found, each as `where: what`, in order and without repeats.

    `where` is the dotted path without pydantic's internal `function-…` steps (`top_level`
    when the whole document is at fault), `what` without its "Value error, " prefix.
    """
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-")) or top_level
        what = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {what}" if where else what)
    return list(dict.fromkeys(problems))
