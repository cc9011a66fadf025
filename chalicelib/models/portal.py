"""The portal's settings and the sign-in throttle's answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PortalSettings:
    summary_recipients: list[str] = field(default_factory=list)
    summary_only_problems: bool = False  # e-mail only runs that had rejected/failed Accounts
    updated_at: float | None = None

    @property
    def summary_enabled(self) -> bool:
        return bool(self.summary_recipients)


@dataclass(frozen=True)
class ThrottleVerdict:
    allowed: bool
    retry_after_seconds: float = 0.0
