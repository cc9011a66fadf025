"""How far a poll has read a source, kept in the state table.

    WATERMARK#{name}  sk WATERMARK   `at`: an ISO 8601 UTC instant (text compares as time)

A watermark only moves forward: `advance` is one conditional write, so two pollers racing
never move it back past what the other one finished.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

PREFIX = "WATERMARK#"
SK = "WATERMARK"


class WatermarkRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, name: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key=s.key(PREFIX + name, SK), ConsistentRead=True
        ).get("Item")
        return str(d.from_item(item)["at"]) if item else None

    def advance(self, name: str, at: str) -> bool:
        """Move the watermark to `at` unless it is already there or later (True when moved)."""
        return d.write_if(
            self._client.put_item,
            TableName=self._table,
            Item={**s.key(PREFIX + name, SK), **d.to_item({"at": at})},
            ConditionExpression="attribute_not_exists(#at) OR #at < :at",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":at": {"S": at}},
        )
