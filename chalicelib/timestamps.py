"""How our own timestamps are written and read: ISO 8601 in UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_seconds(moment: datetime) -> str:
    """`moment` as we store and show it: ISO 8601, UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp, with `Z` or an offset (ValueError when it is not one)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
