"""Jinja2 filters and globals: dates people read, badges, plain-word labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.timestamps import parse_iso

STATE_LABELS = {
    "planning": ("Planning", "info"),
    "running": ("Running", "info"),
    "waiting": ("Waiting for Xero", "warning"),
    "completed": ("Completed", "success"),
    "completed_with_errors": ("Completed with problems", "warning"),
    "failed": ("Failed", "error"),
}
RESULT_LABELS = {
    "created": ("Created", "success"),
    "updated": ("Updated", "success"),
    "unchanged": ("Unchanged", "neutral"),
    "rejected": ("Rejected", "warning"),
    "failed": ("Failed", "error"),
    "Synced": ("Synced", "success"),
    "Rejected": ("Rejected", "warning"),
    "Failed": ("Failed", "error"),
}
TRIGGER_LABELS = {
    "button": "Button in Zoho",
    "workflow": "Workflow rule",
    "run": "Bulk run",
    "portal": "Portal",
    "manual": "Portal",
    "schedule": "Schedule",
    "retry": "Retry",
    "api": "API",
    "xero": "Change in Xero",
    "cli": "CLI",
    "zoho_delete": "Deleted in Zoho",
}


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    else:
        try:
            moment = parse_iso(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: Any) -> str:
    """'3 Mar 2026, 14:05 UTC' (always UTC: the server cannot know the reader's zone)."""
    moment = as_datetime(value)
    if moment is None:
        return "—"
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def iso(value: Any) -> str:
    moment = as_datetime(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def ago(value: Any, now: datetime | None = None) -> str:
    moment = as_datetime(value)
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in under a minute" if future else "just now"


def number(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "—"


def state_label(state: Any) -> str:
    return STATE_LABELS.get(str(state), (str(state), "neutral"))[0]


def state_tone(state: Any) -> str:
    return STATE_LABELS.get(str(state), (str(state), "neutral"))[1]


def result_label(result: Any) -> str:
    return RESULT_LABELS.get(str(result), (str(result).capitalize(), "neutral"))[0]


def result_tone(result: Any) -> str:
    return RESULT_LABELS.get(str(result), (str(result), "neutral"))[1]


def trigger_label(trigger: Any) -> str:
    return TRIGGER_LABELS.get(str(trigger), str(trigger).capitalize())


def sentence(text: Any) -> str:
    """First letter up, the rest as written (Jinja's `capitalize` lowercases "Xero")."""
    value = str(text or "")
    return value[:1].upper() + value[1:]


def duration(seconds: Any) -> str:
    """To a tenth of a second: '1.3 s', '4 min 2.5 s', '1 h 2 min' ('—' while a run goes on)."""
    if seconds is None or seconds == "":
        return "—"
    tenths = round(float(seconds), 1)
    if tenths < 60:
        return f"{tenths:.1f} s"
    minutes, rest = divmod(tenths, 60)
    if minutes < 60:
        return f"{int(minutes)} min {rest:.1f} s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours} h {minutes} min"


def plural(count: Any, word: str, words: str | None = None) -> str:
    n = int(count or 0)
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


FILTERS = {
    "when": when,
    "iso": iso,
    "ago": ago,
    "number": number,
    "state_label": state_label,
    "state_tone": state_tone,
    "result_label": result_label,
    "result_tone": result_tone,
    "trigger_label": trigger_label,
    "sentence": sentence,
}
GLOBALS = {"plural": plural, "duration": duration}
