"""A queued workflow sync waiting for its burst of saves to end (see services/coalescing.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PendingMarker:
    group: str
    marker_id: str  # set by the event that made the marker; a new marker gets a new id
    events: int  # events recorded since the marker was made
    first_event_at: float
    last_event_at: float
    enqueued_at: float | None  # when a message that will take this marker was confirmed sent
