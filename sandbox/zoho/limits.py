"""Zoho's two API limits: calls in flight (concurrency) and credits per rolling 24 hours.

Both answer 429 TOO_MANY_REQUESTS. Credits: most calls cost 1, record updates 1 per 10 records,
COQL 1/2/3 by LIMIT size. `X-API-CREDITS-REMAINING` is sent once half the credits are used.

Source of the tables below: Zoho CRM "API Limits" (www.zoho.com/crm/developer/docs/api/v8/
api-limits.html; the same table on .../api/v4/api-limits.html and crm/help/api/api-limits.html),
"Kaizen #93: Credit Calculation and Concurrency in Zoho CRM APIs" and "Kaizen #203: Handling API
Limits and Error Responses" (help.zoho.com community): credits per rolling 24 h are
50,000 + users x (250 | 500 | 1,000 | 2,000) + add-ons, capped at 100,000 | 3,000,000 |
5,000,000 | unlimited (Free: 5,000 flat); concurrent calls per org per app 5/10/15/20/25;
a "sub-concurrency" of 10 for resource-heavy APIs such as COQL. Kaizen #93 shows lower caps
(1 M / 2 M) for Professional and Enterprise; the API Limits page wins.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

WINDOW = 86400.0
SUB_CONCURRENCY = 10  # COQL and other heavy APIs, on every edition


@dataclass(frozen=True)
class Edition:
    base_credits: int
    credits_per_user: int
    max_credits: int | None  # None: unlimited
    concurrency: int

    def daily_credits(self, users: int, addon_credits: int = 0) -> int | None:
        if self.max_credits is None:
            return None
        allowed = self.base_credits + users * self.credits_per_user + addon_credits
        return min(allowed, self.max_credits)


EDITIONS = {
    "free": Edition(5_000, 0, 5_000, 5),
    "standard": Edition(50_000, 250, 100_000, 10),
    "professional": Edition(50_000, 500, 3_000_000, 15),
    "enterprise": Edition(50_000, 1_000, 5_000_000, 20),
    "ultimate": Edition(50_000, 2_000, None, 25),
}

# Credits per call (same sources): 1 by default; insert/update/upsert 1 per 10 records
# (`update_credits`); COQL 1/2/3 by LIMIT (`coql.credits_for`). Calls the stand-in does not
# serve cost more: a list through a custom view (`cvid`) 3, deleted records 2, Convert Lead 5.


def edition_limits(edition: str, users: int, addon_credits: int) -> tuple[int | None, int]:
    """(credits per rolling 24 h or None for unlimited, concurrent calls) of a Zoho CRM edition."""
    try:
        chosen = EDITIONS[edition.lower()]
    except KeyError:
        raise ValueError(f"unknown Zoho CRM edition {edition!r}; one of {sorted(EDITIONS)}") from None
    return chosen.daily_credits(users, addon_credits), chosen.concurrency


class Concurrency:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def enter(self, limit: int) -> bool:
        """Count a call in; False when it is one too many (it is still counted until `leave`)."""
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return self.in_flight <= limit

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class Credits:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0  # running sum of _spent, so checking stays O(1) under heavy load

    def used(self, now: float) -> int:
        with self._lock:
            while self._spent and self._spent[0][0] <= now - WINDOW:
                self._total -= self._spent.popleft()[1]
            return self._total

    def spend(self, now: float, amount: int) -> None:
        with self._lock:
            self._spent.append((now, amount))
            self._total += amount

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()
            self._total = 0


def update_credits(record_count: int) -> int:
    """Insert/update/upsert: one credit per ten records."""
    return max(1, -(-record_count // 10))
