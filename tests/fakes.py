"""Fakes shared by several test packages."""

from __future__ import annotations

from collections.abc import Callable


class FakeClock:
    """Epoch seconds moved by hand; usable as `sleep`, which advances it, remembers each wait and
    runs what the test queued in `during_sleep` (one callable per sleep, in order)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.during_sleep: list[Callable[[], object]] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.during_sleep:
            self.during_sleep.pop(0)()
