"""A time budget handed down through a sync so every wait and HTTP call fits in it."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.errors import DeadlineExceededError


class Deadline:
    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ends = None if seconds is None else clock() + seconds

    @classmethod
    def unlimited(cls) -> Deadline:
        return cls(None)

    def remaining(self) -> float:
        if self._ends is None:
            return float("inf")
        return max(0.0, self._ends - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, default: float) -> float:
        """The HTTP timeout to use now: the default, cut to what is left."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceededError(
                "The time allowed for this sync ran out; it continues in the background."
            )
        return min(default, left)

    def allows(self, seconds: float) -> bool:
        return self.remaining() > seconds
