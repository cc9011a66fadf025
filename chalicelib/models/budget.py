"""Xero's rate limits for one organisation, and the budget's answers (store/budget.py keeps the counts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    """Xero's limits for one organisation (Starter-tier apps get 1,000 calls a day, not 5,000)."""

    minute: int = 60
    day: int = 5000
    concurrent: int = 5

    def __post_init__(self) -> None:
        if min(self.minute, self.day, self.concurrent) < 1:
            raise ValueError("every rate limit must be at least 1")

    def of(self, window: str) -> int:
        return self.minute if window == "minute" else self.day


@dataclass(frozen=True)
class Lease:
    """One reserved call: concurrency slot `slot` is ours until released or `expires_at`."""

    tenant_id: str
    slot: int
    owner: str
    expires_at: float


@dataclass(frozen=True)
class Reservation:
    """The answer to `reserve`: a lease, or which limit refuses and when trying again is worth it."""

    lease: Lease | None
    problem: str | None = None  # minute | day | concurrent, or Xero's X-Rate-Limit-Problem when blocked
    retry_at: float | None = None  # epoch seconds
    blocked_by_xero: bool = False  # the refusal comes from a 429 Xero sent, not from our own count

    @property
    def granted(self) -> bool:
        return self.lease is not None


@dataclass(frozen=True)
class RateBudgetUsage:
    """What the portal's dashboard shows for one organisation (times in epoch seconds)."""

    tenant_id: str
    day_used: int
    day_limit: int
    day_resets_at: float | None  # None while no day window is open
    minute_used: int
    minute_limit: int
    minute_resets_at: float | None
    in_flight: int
    concurrent_limit: int
    blocked_until: float | None = None  # only while a 429's Retry-After is still running
    blocked_problem: str | None = None

    @property
    def day_remaining(self) -> int:
        return max(0, self.day_limit - self.day_used)
