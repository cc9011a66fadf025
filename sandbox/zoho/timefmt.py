"""Zoho's DateTime wire format: ISO 8601 with an offset and no fractional seconds.

`2026-11-25T18:00:00+00:00` is accepted; `...T18:00:00.123+00:00`, `...T18:00:00` and
`...T18:00:00Z` are refused (the stand-in is strict: Zoho documents only the ±HH:mm form).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(epoch: float, offset_minutes: int = 0) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(int(epoch), tz=UTC).astimezone(zone).isoformat()


def parse_datetime(value: object) -> datetime | None:
    """The instant a Zoho DateTime string names, or None when it is not one."""
    if not isinstance(value, str) or not DATETIME_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def epoch_of(value: str) -> float:
    """Seconds since the epoch of a DateTime string already known to be valid."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a Zoho DateTime: {value!r}")
    return parsed.timestamp()
