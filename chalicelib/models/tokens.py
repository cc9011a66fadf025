"""What may be said about a stored OAuth token set (the token set itself: models/sync.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenStatus:
    """What may be shown about a token set without revealing any token."""

    provider: str
    version: int
    has_refresh_token: bool
    expires_at: float
    refreshed_at: float | None
    rotated_at: float | None
    lease_owner: str | None
    lease_expires_at: float | None
    last_error: str | None
    last_error_at: float | None
