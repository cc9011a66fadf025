"""Held conflicts: fields Both Way wrote nowhere because both sides changed them differently
(CONFLICT_POLICY=hold), kept until a person keeps Zoho's or Xero's value. No rules here.

    CONFLICTS  sk {account_id}#{key}   one held field of one linked pair: both values, the base
One partition lists them all for the portal's Conflicts page (there are few: each one waits for
a person); an Account's own are a `begins_with` on its id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

CONFLICTS_PK = "CONFLICTS"
PAGE = 200


@dataclass(frozen=True)
class HeldConflict:
    account_id: str
    key: str  # the field's key in the map, e.g. Phones[PhoneType=DEFAULT].PhoneNumber
    label: str  # the Zoho field's label, for people
    zoho: str  # Zoho's value when it was held
    xero: str  # Xero's value then
    base: str | None  # what both held after the last sync
    contact_id: str | None
    account_name: str
    held_at: str


class ConflictRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, conflict: HeldConflict) -> None:
        """Store it (a newer hold of the same field replaces the older)."""
        values = {
            **dataclasses.asdict(conflict),
            s.PK: CONFLICTS_PK,
            s.SK: _sk(conflict.account_id, conflict.key),
        }
        values["entity"] = "CONFLICT"
        self._client.put_item(TableName=self._table, Item=d.to_item(values))

    def get(self, account_id: str, key: str) -> HeldConflict | None:
        response = self._client.get_item(
            TableName=self._table, Key=s.key(CONFLICTS_PK, _sk(account_id, key)), ConsistentRead=True
        )
        item = response.get("Item")
        return _conflict(d.from_item(item)) if item else None

    def delete(self, account_id: str, key: str) -> None:
        self._client.delete_item(TableName=self._table, Key=s.key(CONFLICTS_PK, _sk(account_id, key)))

    def for_account(self, account_id: str) -> list[HeldConflict]:
        return self._query("begins_with(#sk, :prefix)", f"{account_id}#")

    def all(self) -> list[HeldConflict]:
        """Every held conflict, by Account (at most a few pages)."""
        return self._query(None, None)

    def _query(self, condition: str | None, prefix: str | None) -> list[HeldConflict]:
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk" + (f" AND {condition}" if condition else ""),
            "ExpressionAttributeNames": {"#pk": s.PK, **({"#sk": s.SK} if condition else {})},
            "ExpressionAttributeValues": {
                ":pk": d.to_attr(CONFLICTS_PK),
                **({":prefix": d.to_attr(prefix)} if prefix else {}),
            },
            "ConsistentRead": True,
            "Limit": PAGE,
        }
        found: list[HeldConflict] = []
        while True:
            response = self._client.query(**args)
            found += [_conflict(d.from_item(item)) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _sk(account_id: str, key: str) -> str:
    return f"{account_id}#{key}"


def _conflict(values: dict[str, Any]) -> HeldConflict:
    names = {f.name for f in dataclasses.fields(HeldConflict)}
    kwargs = {k: v for k, v in values.items() if k in names}
    for text in ("zoho", "xero", "label", "account_name", "held_at"):
        kwargs[text] = str(kwargs.get(text) or "")
    for optional in ("base", "contact_id"):  # None is not stored
        kwargs.setdefault(optional, None)
    return HeldConflict(**kwargs)
