"""The per-Account timeline of sync attempts, newest first, expiring after a retention period.

Entries share the Account's partition (pk ACCOUNT#{id}) under sk HIST#{time}#{random},
so one Query with ScanIndexForward=False reads the newest first.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from chalicelib.models.sync import HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.cursors import decode_cursor, encode_cursor

ENTITY = "HISTORY"
BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem maximum
MAX_LIMIT = 100
# Keep one entry well inside DynamoDB's 400 KB item limit whatever an error looked like.
MAX_MESSAGE_CHARS = 2_000
MAX_DETAIL_CHARS = 8_000
_DAY = 86_400
KEY_NAMES = (s.PK, s.SK)  # a page resumes from the base-table key; nothing else leaks out


class HistoryRepository:
    """Appends and pages through `HistoryEntry` items."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        ttl_days: int = 400,
        clock: Callable[[], float] = time.time,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table_name
        self._ttl_seconds = ttl_days * _DAY
        self._clock = clock
        self._sleep = sleep

    def add(self, entry: HistoryEntry) -> None:
        self._client.put_item(TableName=self._table, Item=self._to_item(entry))

    def add_many(self, entries: Iterable[HistoryEntry]) -> None:
        """Write entries 25 at a time, retrying throttled leftovers with backoff."""
        requests = [{"PutRequest": {"Item": self._to_item(e)}} for e in entries]
        for chunk in d.chunks(requests, BATCH_WRITE_LIMIT):
            d.retry_unprocessed(
                "BatchWriteItem",
                self._batch_write,
                {self._table: chunk},
                lambda req: sum(len(v) for v in req.values()),
                self._sleep,
            )

    def list(
        self, account_id: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[HistoryEntry], str | None]:
        """One page of an Account's history, newest first, and the cursor for the next page.

        The cursor is None on the last page. We read one item more than asked so we
        never hand out a cursor that leads to an empty page.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        pk = s.account_pk(account_id)
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :hist)",
            "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":hist": {"S": s.HISTORY_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor is not None:
            args["ExclusiveStartKey"] = decode_cursor(cursor, KEY_NAMES, {s.PK: pk}, {s.SK: s.HISTORY_PREFIX})
        items = self._client.query(**args).get("Items", [])
        page = items[:limit]
        next_cursor = encode_cursor(page[-1], KEY_NAMES) if len(items) > limit else None
        return [_from_item(i) for i in page], next_cursor

    def _batch_write(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self._client.batch_write_item(RequestItems=request)
        return response.get("UnprocessedItems") or {}

    def _to_item(self, entry: HistoryEntry) -> d.Item:
        values: dict[str, Any] = dataclasses.asdict(entry)
        values["message"] = _clip(entry.message, MAX_MESSAGE_CHARS)
        values["detail"] = _clip(entry.detail, MAX_DETAIL_CHARS)
        values.update(
            {
                s.PK: s.account_pk(entry.account_id),
                s.SK: history_sk(entry.at),
                "entity": ENTITY,
                s.TTL: int(self._clock()) + self._ttl_seconds,
            }
        )
        return d.to_item(values)


def history_sk(at: str) -> str:
    """HIST#{time}#{random}: the time normalised so that string order is time order.

    ISO strings from different writers ("Z" vs "+00:00", with or without
    microseconds) do not sort correctly as text; the random suffix keeps two
    entries in the same microsecond apart.
    """
    return f"{s.HISTORY_PREFIX}{_sortable_time(at)}#{secrets.token_hex(4)}"


def _sortable_time(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at  # not ISO: keep it as given rather than lose the entry
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # our timestamps are UTC by convention
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _from_item(item: d.Item) -> HistoryEntry:
    values = d.from_item(item)
    fields = {f.name for f in dataclasses.fields(HistoryEntry)}
    kwargs = {k: v for k, v in values.items() if k in fields}
    kwargs["trigger"] = Trigger(kwargs["trigger"])
    kwargs["status"] = SyncStatus(kwargs["status"])
    kwargs["action"] = SyncAction(kwargs["action"])
    return HistoryEntry(**kwargs)
