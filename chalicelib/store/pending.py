"""Pending-sync markers: a burst of workflow events for one record waits for one queued sync.

A marker says "a queued message will sync this record; events may join it". The
webhook records every event on it with one atomic UpdateItem that returns the old
item, so exactly one of any number of simultaneous events sees "no marker" and
sends the message. The worker deletes the marker (returning it, so it knows how
many events it covers) just before it syncs; a later event finds no marker and
sends a new message. The policy (how long to wait, when a marker is stale) lives
in chalicelib/services/coalescing.py; this module only reads and writes items.

Times are epoch seconds passed in by the caller (so tests move them by hand).
Markers are never needed after a day; `ttl` only cleans up what a crash left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

ENTITY = "PENDING"
PENDING_PREFIX = "PENDING#"
PENDING_SK = "PENDING"
TTL_SECONDS = 86_400
NOT_QUEUED = 0.0  # enqueued_at after a failed send: the next event must send again


@dataclass(frozen=True)
class PendingMarker:
    group: str
    events: int  # events recorded since the marker was made
    first_event_at: float
    last_event_at: float
    enqueued_at: float  # when the message that will take this marker was sent


class PendingRepository:
    """Markers stored as pk PENDING#{group}, sk PENDING (group = the queue's message group)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record_event(self, group: str, now: float) -> PendingMarker | None:
        """Count one event and return the marker as it was before (None: this event made it).

        A new marker gets enqueued_at = now: its maker is about to send the message.
        """
        response = self._client.update_item(
            TableName=self._table,
            Key=_key(group),
            UpdateExpression=(
                "SET #entity = :entity, #group = :group, #last = :now, #ttl = :ttl, "
                "#first = if_not_exists(#first, :now), #enq = if_not_exists(#enq, :now) "
                "ADD #events :one"
            ),
            ExpressionAttributeNames={
                "#entity": "entity",
                "#group": "group",
                "#last": "last_event_at",
                "#first": "first_event_at",
                "#enq": "enqueued_at",
                "#ttl": s.TTL,
                "#events": "events",
            },
            ExpressionAttributeValues={
                ":entity": d.to_attr(ENTITY),
                ":group": d.to_attr(group),
                ":now": d.to_attr(now),
                ":ttl": d.to_attr(int(now) + TTL_SECONDS),
                ":one": d.to_attr(1),
            },
            ReturnValues="ALL_OLD",
        )
        return _marker(response.get("Attributes"))

    def claim(self, group: str, seen_enqueued_at: float, now: float) -> bool:
        """Take over sending for a stale marker; only one of several callers wins."""
        return self._conditional(
            self._client.update_item,
            Key=_key(group),
            UpdateExpression="SET #enq = :now",
            ConditionExpression="#enq = :seen",
            ExpressionAttributeNames={"#enq": "enqueued_at"},
            ExpressionAttributeValues={":now": d.to_attr(now), ":seen": d.to_attr(seen_enqueued_at)},
        )

    def unclaim(self, group: str, enqueued_at: float) -> None:
        """The send failed: mark the marker as not queued so the next event sends again.

        The marker is kept, not deleted: other events may already have joined it.
        """
        self._conditional(
            self._client.update_item,
            Key=_key(group),
            UpdateExpression="SET #enq = :none",
            ConditionExpression="#enq = :mine",
            ExpressionAttributeNames={"#enq": "enqueued_at"},
            ExpressionAttributeValues={":none": d.to_attr(NOT_QUEUED), ":mine": d.to_attr(enqueued_at)},
        )

    def get(self, group: str) -> PendingMarker | None:
        response = self._client.get_item(TableName=self._table, Key=_key(group), ConsistentRead=True)
        return _marker(response.get("Item"))

    def take(self, group: str) -> PendingMarker | None:
        """Delete the marker and return what it held; events after this make a new one."""
        response = self._client.delete_item(TableName=self._table, Key=_key(group), ReturnValues="ALL_OLD")
        return _marker(response.get("Attributes"))

    def join(self, group: str, events: int, queued_since: float) -> bool:
        """Add events to a marker whose message was sent at or after `queued_since`.

        False when there is no such marker (nothing is waiting to sync that record).
        """
        return self._conditional(
            self._client.update_item,
            Key=_key(group),
            UpdateExpression="ADD #events :n",
            ConditionExpression="attribute_exists(#pk) AND #enq >= :since",
            ExpressionAttributeNames={"#events": "events", "#pk": s.PK, "#enq": "enqueued_at"},
            ExpressionAttributeValues={":n": d.to_attr(events), ":since": d.to_attr(queued_since)},
        )

    def _conditional(self, call: Any, **kwargs: Any) -> bool:
        try:
            call(TableName=self._table, **kwargs)
        except ClientError as exc:
            if d.is_condition_failure(exc):
                return False
            raise
        return True


def pending_pk(group: str) -> str:
    if not group:
        raise ValueError("group must not be empty")
    return PENDING_PREFIX + group


def _key(group: str) -> dict[str, dict[str, str]]:
    return s.key(pending_pk(group), PENDING_SK)


def _marker(item: dict[str, Any] | None) -> PendingMarker | None:
    if not item:
        return None
    values = d.from_item(item)
    return PendingMarker(
        group=str(values["group"]),
        events=int(values.get("events", 0)),
        first_event_at=float(values["first_event_at"]),
        last_event_at=float(values["last_event_at"]),
        enqueued_at=float(values.get("enqueued_at", NOT_QUEUED)),
    )
