"""Xero's rate limits: per tenant 5 in flight, 60/minute, 5000/day; 10,000/minute per app.

Windows are fixed and start at a tenant's first call ("counted against a fixed window which will
reset at different times for each tenant"). Rejected calls are not counted. Callers hold the
sandbox lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sandbox.common import Clock
from sandbox.xero.config import XeroSandboxConfig

MINUTE, DAY = 60.0, 86400.0


@dataclass
class Window:
    length: float
    start: float | None = None
    count: int = 0

    def used(self, now: float) -> int:
        return 0 if self.start is None or now >= self.start + self.length else self.count

    def hit(self, now: float) -> None:
        if self.used(now) == 0:
            self.start, self.count = now, 0
        self.count += 1

    def retry_after(self, now: float) -> int:
        if self.start is None:
            return 0
        return max(1, math.ceil(self.start + self.length - now))


@dataclass
class TenantUsage:
    minute: Window = field(default_factory=lambda: Window(MINUTE))
    day: Window = field(default_factory=lambda: Window(DAY))
    in_flight: int = 0


@dataclass
class Rejection:
    problem: str  # value of X-Rate-Limit-Problem
    retry_after: int


class RateLimiter:
    def __init__(self, config: XeroSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.tenants: dict[str, TenantUsage] = {}
        self.app = Window(MINUTE)

    def usage(self, tenant_id: str) -> TenantUsage:
        return self.tenants.setdefault(tenant_id.lower(), TenantUsage())

    def admit(self, tenant_id: str | None) -> Rejection | None:
        """Count the call and mark it in flight, or say which limit refuses it."""
        now = self.clock.now()
        rejection = self._check(tenant_id, now) if self.config.rate_limits_enabled else None
        if rejection:
            return rejection
        self.app.hit(now)
        if tenant_id:
            usage = self.usage(tenant_id)
            usage.minute.hit(now)
            usage.day.hit(now)
            usage.in_flight += 1
        return None

    def release(self, tenant_id: str | None) -> None:
        if tenant_id:
            usage = self.usage(tenant_id)
            usage.in_flight = max(0, usage.in_flight - 1)

    def _check(self, tenant_id: str | None, now: float) -> Rejection | None:
        cfg = self.config
        if tenant_id:
            usage = self.usage(tenant_id)
            if usage.in_flight >= cfg.concurrent_limit:
                # No window to wait for: Xero gives no useful Retry-After here, we suggest 1 s.
                return Rejection("concurrent", 1)
            if usage.day.used(now) >= cfg.day_limit:
                return Rejection("day", usage.day.retry_after(now))
            if usage.minute.used(now) >= cfg.minute_limit:
                return Rejection("minute", usage.minute.retry_after(now))
        if self.app.used(now) >= cfg.app_minute_limit:
            return Rejection("appminute", self.app.retry_after(now))
        return None

    def headers(self, tenant_id: str | None) -> dict[str, str]:
        """Remaining-call headers; tenantless calls (e.g. /connections) only get the app one."""
        now, cfg = self.clock.now(), self.config
        headers = {"X-AppMinLimit-Remaining": str(max(0, cfg.app_minute_limit - self.app.used(now)))}
        if tenant_id:
            usage = self.usage(tenant_id)
            headers["X-MinLimit-Remaining"] = str(max(0, cfg.minute_limit - usage.minute.used(now)))
            headers["X-DayLimit-Remaining"] = str(max(0, cfg.day_limit - usage.day.used(now)))
        return headers

    def state(self) -> dict[str, object]:
        now = self.clock.now()
        return {
            "app_minute_used": self.app.used(now),
            "tenants": {
                tid: {
                    "minute_used": u.minute.used(now),
                    "day_used": u.day.used(now),
                    "in_flight": u.in_flight,
                }
                for tid, u in self.tenants.items()
            },
        }
