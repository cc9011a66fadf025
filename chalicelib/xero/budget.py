"""The gate every Xero API call passes through: one per-organisation budget for all Lambdas.

    with gate.call(tenant_id, deadline):
        response = http.send(...)

reserves the call in the shared budget (chalicelib/store/budget.py) first. When the budget is
full it waits inline if the wait is short and the deadline allows (the next minute window in a
few seconds, a concurrency slot freeing up), and otherwise raises `RateLimitedError` with
`problem` ("minute" | "day" | "concurrent") and `retry_after` (seconds until trying again is
worth it). The daily limit never waits inline: it raises problem="day" with the seconds until
the day window resets, so a bulk run can pause and resume rather than fail records.

`observe` feeds Xero's answers back: the remaining-call headers correct our count when Xero's is
lower, and a 429's Retry-After blocks every caller, not only the one that got it. As an
`HttpService.on_response` hook (`observe_response`) it sees every answer, including a 429 that
chalicelib/http.py then retries inline or raises, which stays the one place for those rules.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import requests

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import RateLimitedError
from chalicelib.http import retry_after_seconds
from chalicelib.models.budget import Lease, RateBudgetUsage, RateLimits, Reservation

__all__ = ["RateBudgetUsage", "RateLimits", "XeroRateGate"]

logger = logging.getLogger(__name__)

TENANT_HEADER = "xero-tenant-id"
DEFAULT_MAX_INLINE_WAIT = 5.0  # as chalicelib/http.py's longest inline Retry-After
DEFAULT_LEASE_SECONDS = 60.0  # longer than any one call with its in-process retries
LEASE_MARGIN = 5.0  # a call cannot outlive its deadline by more than this
SLOT_POLL = (0.1, 1.0)  # first and longest pause while waiting for a concurrency slot


class BudgetStore(Protocol):
    def reserve(
        self, tenant_id: str, owner: str, limits: RateLimits, lease_seconds: float
    ) -> Reservation: ...
    def release(self, lease: Lease) -> None: ...
    def record_remaining(
        self,
        tenant_id: str,
        limits: RateLimits,
        *,
        minute_remaining: int | None = None,
        day_remaining: int | None = None,
    ) -> None: ...
    def block(self, tenant_id: str, retry_after: float, problem: str | None, limits: RateLimits) -> None: ...
    def usage(self, tenant_id: str, limits: RateLimits) -> RateBudgetUsage: ...


class XeroRateGate:
    def __init__(
        self,
        repository: BudgetStore,
        limits: RateLimits,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        *,
        max_inline_wait: float = DEFAULT_MAX_INLINE_WAIT,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        slot_poll: tuple[float, float] = SLOT_POLL,
    ) -> None:
        self.repository = repository
        self.limits = limits
        self.max_inline_wait = max_inline_wait
        self.lease_seconds = lease_seconds
        self.slot_poll = slot_poll
        self._sleep = sleep
        self._clock = clock  # epoch seconds, the same clock the repository uses

    @contextmanager
    def call(self, tenant_id: str, deadline: Deadline | None = None) -> Iterator[Lease]:
        """Hold one reserved call for the organisation while the body runs; released on exit."""
        lease = self._acquire(tenant_id, deadline or Deadline.unlimited())
        try:
            yield lease
        finally:
            self._release(lease)

    def observe(self, tenant_id: str, response: requests.Response) -> None:
        """Record what Xero said about its limits in this answer."""
        if response.status_code == 429:
            retry_after = retry_after_seconds(response.headers)
            if retry_after is not None:
                problem = response.headers.get("X-Rate-Limit-Problem")
                self.repository.block(tenant_id, retry_after, problem, self.limits)
            return
        minute = _count(response.headers.get("X-MinLimit-Remaining"))
        day = _count(response.headers.get("X-DayLimit-Remaining"))
        if day is not None:
            metrics.xero_day_remaining(day, self.limits.day)
        if minute is not None or day is not None:
            self.repository.record_remaining(
                tenant_id, self.limits, minute_remaining=minute, day_remaining=day
            )

    def observe_response(self, response: requests.Response) -> None:
        """`HttpService.on_response` hook: only organisation calls count (not identity, /connections)."""
        tenant_id = response.request.headers.get(TENANT_HEADER)
        if not isinstance(tenant_id, str) or not tenant_id:
            return
        try:
            self.observe(tenant_id, response)
        except Exception:
            # Bookkeeping must never fail a call Xero has already answered; the count self-corrects.
            logger.warning("could not record Xero's rate-limit answer", exc_info=True)

    def usage(self, tenant_id: str) -> RateBudgetUsage:
        return self.repository.usage(tenant_id, self.limits)

    # --- waiting ------------------------------------------------------------

    def _acquire(self, tenant_id: str, deadline: Deadline) -> Lease:
        deadline.timeout(1.0)  # raises when the time is already up: reserve nothing that cannot be used
        owner = uuid.uuid4().hex
        lease_seconds = min(self.lease_seconds, deadline.remaining() + LEASE_MARGIN)
        waited, poll = 0.0, self.slot_poll[0]
        while True:
            reservation = self.repository.reserve(tenant_id, owner, self.limits, lease_seconds)
            if reservation.lease is not None:
                return reservation.lease
            problem = _problem(reservation.problem)
            retry_after = max(0.0, (reservation.retry_at or 0.0) - self._clock())
            if problem == "concurrent":
                wait, poll = random.uniform(0.5, 1.5) * poll, min(poll * 2, self.slot_poll[1])
            else:
                # A little jitter so the callers waiting for one reset do not all arrive at once.
                wait = retry_after + random.uniform(0.0, 0.25)
            if problem == "day" or waited + wait > self.max_inline_wait or not deadline.allows(wait + 0.5):
                raise self._refused(tenant_id, problem, retry_after, reservation)
            self._sleep(wait)
            waited += wait

    def _release(self, lease: Lease) -> None:
        try:
            self.repository.release(lease)
        except Exception:
            # The lease expires on its own; a failed release must not hide the call's own result.
            logger.warning("could not release a Xero rate-budget slot", exc_info=True)

    def _refused(
        self, tenant_id: str, problem: str, retry_after: float, reservation: Reservation
    ) -> RateLimitedError:
        source = "Xero's 429" if reservation.blocked_by_xero else "our shared budget"
        return RateLimitedError(
            _MESSAGES[problem].format(when=_in_words(retry_after)),
            detail=(
                f"Xero {reservation.problem or problem} limit for organisation {tenant_id} "
                f"({source}); try again in {retry_after:.0f} s"
            ),
            retry_after=retry_after,
            problem=problem,
        )


_MESSAGES = {
    "day": "Xero's daily limit of calls for this organisation is used up. "
    "Syncing continues automatically when it resets, {when}.",
    "minute": "Xero's limit of calls per minute for this organisation has been reached. "
    "Syncing continues automatically {when}.",
    "concurrent": "Xero is already handling as many calls for this organisation as it allows at once. "
    "Syncing continues automatically {when}.",
}


def _problem(value: str | None) -> str:
    """Xero's X-Rate-Limit-Problem in our three words; the app-wide minute limit waits like a minute."""
    return value if value in ("day", "concurrent") else "minute"


def _count(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _in_words(seconds: float) -> str:
    if seconds < 10:
        return "in a few seconds"
    if seconds < 90:
        return "in about a minute"
    if seconds < 90 * 60:
        return f"in about {round(seconds / 60)} minutes"
    hours = round(seconds / 3600)
    return "in about an hour" if hours == 1 else f"in about {hours} hours"
