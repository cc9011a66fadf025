"""Pending-sync markers: a burst of workflow events for one record waits for one queued sync.

A marker says "a queued message will sync this record; events may join it". The
webhook records every event on it with one atomic UpdateItem that returns the old
item, so exactly one of any number of simultaneous events sees "no marker"; it
sends the message and then confirms the send (`enqueued_at`). Only a confirmed
marker absorbs events. The worker deletes the marker (returning it, so it knows
how many events it covers) just before it syncs; a later event finds no marker
and sends a new message. The policy (how long to wait, when a marker is stale) lives
in chalicelib/services/coalescing.py; this module only reads and writes items.

Times are epoch seconds passed in by the caller (so tests move them by hand).
Markers are never needed after a day; `ttl` only cleans up what a crash left.
"""

from __future__ import annotations

from typing import Any

from chalicelib.models.pending import PendingMarker
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

ENTITY = "PENDING"
PENDING_PREFIX = "PENDING#"
PENDING_SK = "PENDING"
TTL_SECONDS = 86_400


class PendingRepository:
    """Markers stored as pk PENDING#{group}, sk PENDING (group = the queue's message group)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record_event(self, group: str, now: float, new_id: str) -> PendingMarker | None:
        """Count one event and return the marker as it was before (None: this event made it,
        with marker_id = new_id and no enqueued_at until its maker confirms the send)."""
        response = self._client.update_item(
            TableName=self._table,
            Key=_key(group),
            UpdateExpression=(
                "SET #entity = :entity, #group = :group, #last = :now, #ttl = :ttl, "
                "#first = if_not_exists(#first, :now), #id = if_not_exists(#id, :id) "
                "ADD #events :one"
            ),
            ExpressionAttributeNames={
                "#entity": "entity",
                "#group": "group",
                "#last": "last_event_at",
                "#first": "first_event_at",
                "#id": "marker_id",
                "#ttl": s.TTL,
                "#events": "events",
            },
            ExpressionAttributeValues={
                ":entity": d.to_attr(ENTITY),
                ":group": d.to_attr(group),
                ":now": d.to_attr(now),
                ":id": d.to_attr(new_id),
                ":ttl": d.to_attr(int(now) + TTL_SECONDS),
                ":one": d.to_attr(1),
            },
            ReturnValues="ALL_OLD",
        )
        return _marker(response.get("Attributes"))

    def confirm_sent(self, group: str, marker_id: str, now: float) -> bool:
        """Record that a message that will take this marker is on the queue.

        Only the marker with this id: if it was taken (and maybe made again by a newer
        event) in the meantime, nothing changes, so a new marker never looks sent early.
        """
        return d.write_if(
            self._client.update_item,
            TableName=self._table,
            Key=_key(group),
            UpdateExpression="SET #enq = :now",
            ConditionExpression="#id = :id",
            ExpressionAttributeNames={"#enq": "enqueued_at", "#id": "marker_id"},
            ExpressionAttributeValues={":now": d.to_attr(now), ":id": d.to_attr(marker_id)},
        )

    def get(self, group: str) -> PendingMarker | None:
        response = self._client.get_item(TableName=self._table, Key=_key(group), ConsistentRead=True)
        return _marker(response.get("Item"))

    def take(self, group: str) -> PendingMarker | None:
        """Delete the marker and return what it held; events after this make a new one."""
        response = self._client.delete_item(TableName=self._table, Key=_key(group), ReturnValues="ALL_OLD")
        return _marker(response.get("Attributes"))

    def join(self, group: str, events: int, queued_since: float) -> bool:
        """Add events to a marker whose message was confirmed sent at or after `queued_since`.

        False when there is no such marker (nothing is waiting to sync that record).
        """
        return d.write_if(
            self._client.update_item,
            TableName=self._table,
            Key=_key(group),
            UpdateExpression="ADD #events :n",
            ConditionExpression="attribute_exists(#pk) AND #enq >= :since",
            ExpressionAttributeNames={"#events": "events", "#pk": s.PK, "#enq": "enqueued_at"},
            ExpressionAttributeValues={":n": d.to_attr(events), ":since": d.to_attr(queued_since)},
        )


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
        marker_id=str(values.get("marker_id", "")),
        events=int(values.get("events", 0)),
        first_event_at=float(values["first_event_at"]),
        last_event_at=float(values["last_event_at"]),
        enqueued_at=d.as_float(values.get("enqueued_at")),
    )
