"""Zoho's two API limits: calls in flight (concurrency) and credits per rolling 24 hours.

Both answer 429 TOO_MANY_REQUESTS. Credits: most calls cost 1, record updates 1 per 10 records,
COQL 1/2/3 by LIMIT size. `X-API-CREDITS-REMAINING` is sent once half the credits are used.
"""

from __future__ import annotations

import threading
from collections import deque

WINDOW = 86400.0


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
