"""The last synced values of each linked pair, and the claims on Xero contacts. No rules here.

    ACCOUNT#{id}  sk SNAPSHOT   the mapped values both sides had after the last successful sync
                                (either direction), keyed like mapping/directions.py; Xero's
                                UpdatedDateUTC of the contact then. Echo detection reads it now;
                                Both Way's three-way merge uses it as the base.
    XCLAIM#{tenant}#{contact}  sk CLAIM   who is creating the Account of a Xero contact, and
                                which Account it became (exactly one Account per contact).
Saves are conditional on `version`, so two writers that read the same snapshot cannot both win.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.errors import StaleStateError

SNAPSHOT_SK = "SNAPSHOT"
CLAIM_PREFIX = "XCLAIM#"
CLAIM_SK = "CLAIM"


@dataclass
class LinkSnapshot:
    account_id: str
    tenant_id: str | None = None
    contact_id: str | None = None
    primary_contact_id: str | None = None  # the Zoho Contact the Xero person fields belong to
    xero: dict[str, str] = field(default_factory=dict)  # Xero's values after the last sync
    zoho: dict[str, str] = field(default_factory=dict)  # Zoho's values after the last sync
    xero_updated: str | None = None  # Xero's UpdatedDateUTC then (ISO 8601, UTC)
    synced_at: str | None = None
    # The xero_to_zoho run whose batch wrote it: a redelivered batch reports "updated" again.
    last_run_id: str | None = None
    version: int = 0


@dataclass(frozen=True)
class Claim:
    tenant_id: str
    contact_id: str
    owner: str
    claimed_at: float
    account_id: str | None = None  # set once the Account exists in Zoho


class SnapshotRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- snapshots -------------------------------------------------------------

    def get(self, account_id: str) -> LinkSnapshot | None:
        response = self._client.get_item(
            TableName=self._table, Key=_snapshot_key(account_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _snapshot(d.from_item(item)) if item else None

    def save(self, snapshot: LinkSnapshot) -> LinkSnapshot:
        """Store it if nobody saved since it was read (version 0: none existed); StaleStateError if not."""
        stored = dataclasses.replace(snapshot, version=snapshot.version + 1)
        try:
            self._client.put_item(
                TableName=self._table, Item=_snapshot_item(stored), **d.version_condition(snapshot.version)
            )
        except ClientError as exc:
            if d.is_condition_failure(exc):
                raise StaleStateError(snapshot.account_id, snapshot.version) from None
            raise
        return stored

    def get_many(self, account_ids: list[str]) -> dict[str, LinkSnapshot]:
        """Snapshots of these Accounts (BatchGetItem, 100 a call); missing ones are absent."""
        found: dict[str, LinkSnapshot] = {}
        unique = list(dict.fromkeys(account_ids))
        for chunk in d.chunks(unique, 100):
            request: dict[str, Any] = {
                self._table: {"Keys": [_snapshot_key(i) for i in chunk], "ConsistentRead": True}
            }
            d.retry_unprocessed(
                "BatchGetItem",
                lambda req: self._batch_get(req, found),
                request,
                lambda req: sum(len(t["Keys"]) for t in req.values()),
            )
        return found

    def put_many(self, snapshots: list[LinkSnapshot]) -> None:
        """Store these (BatchWriteItem, 25 a call). Unconditional: a bulk batch writes what Xero
        answered just now, the newest there is; a click or an event checks the version instead."""
        items = [
            {"PutRequest": {"Item": _snapshot_item(replace(s, version=s.version + 1))}} for s in snapshots
        ]
        for chunk in d.chunks(items, 25):
            d.retry_unprocessed(
                "BatchWriteItem",
                lambda req: self._client.batch_write_item(RequestItems=req).get("UnprocessedItems") or {},
                {self._table: chunk},
                lambda req: sum(len(v) for v in req.values()),
            )

    def _batch_get(self, request: dict[str, Any], found: dict[str, LinkSnapshot]) -> dict[str, Any]:
        response = self._client.batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(self._table, []):
            snapshot = _snapshot(d.from_item(item))
            found[snapshot.account_id] = snapshot
        return response.get("UnprocessedKeys") or {}

    # --- claims ----------------------------------------------------------------

    def claim(
        self, tenant_id: str, contact_id: str, owner: str, now: float, stale_after: float
    ) -> Claim | None:
        """Claim the right to create this contact's Account. None: someone holds a live claim or the
        Account exists already (read it with `get_claim`). A claim left by a crash goes stale."""
        item = {
            s.PK: _claim_pk(tenant_id, contact_id),
            s.SK: CLAIM_SK,
            "entity": "CLAIM",
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "owner": owner,
            "claimed_at": now,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=d.to_item(item),
                ConditionExpression="attribute_not_exists(#pk) OR (attribute_not_exists(#acct) AND #at < :stale)",
                ExpressionAttributeNames={"#pk": s.PK, "#acct": "account_id", "#at": "claimed_at"},
                ExpressionAttributeValues={":stale": d.to_attr(now - stale_after)},
            )
        except ClientError as exc:
            if d.is_condition_failure(exc):
                return None
            raise
        return Claim(tenant_id, contact_id, owner, now)

    def get_claim(self, tenant_id: str, contact_id: str) -> Claim | None:
        response = self._client.get_item(
            TableName=self._table, Key=s.key(_claim_pk(tenant_id, contact_id), CLAIM_SK), ConsistentRead=True
        )
        values = d.from_item(response.get("Item", {}))
        if not values:
            return None
        return Claim(
            tenant_id=values["tenant_id"],
            contact_id=values["contact_id"],
            owner=values["owner"],
            claimed_at=float(values["claimed_at"]),
            account_id=values.get("account_id"),
        )

    def record_account(self, tenant_id: str, contact_id: str, account_id: str) -> None:
        """The contact's Account exists: the claim now answers with it, for good."""
        expression = d.Expression().set("account_id", account_id).set("tenant_id", tenant_id)
        expression.set("contact_id", contact_id).set("claimed_at", 0).set("owner", "-").set(s.TTL, None)
        self._client.update_item(
            TableName=self._table,
            Key=s.key(_claim_pk(tenant_id, contact_id), CLAIM_SK),
            **expression.update_args(),
        )

    def release_claim(self, claim: Claim) -> None:
        """Give an unfinished claim up (nothing was created), so the next delivery can try."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=s.key(_claim_pk(claim.tenant_id, claim.contact_id), CLAIM_SK),
                ConditionExpression="#owner = :owner AND attribute_not_exists(#acct)",
                ExpressionAttributeNames={"#owner": "owner", "#acct": "account_id"},
                ExpressionAttributeValues={":owner": d.to_attr(claim.owner)},
            )
        except ClientError as exc:
            if not d.is_condition_failure(exc):
                raise


def _snapshot_item(snapshot: LinkSnapshot) -> d.Item:
    values = {**dataclasses.asdict(snapshot), s.PK: s.account_pk(snapshot.account_id), s.SK: SNAPSHOT_SK}
    values["entity"] = "SNAPSHOT"
    return d.to_item(values)


def _snapshot_key(account_id: str) -> d.Item:
    return s.key(s.account_pk(account_id), SNAPSHOT_SK)


def _claim_pk(tenant_id: str, contact_id: str) -> str:
    return f"{CLAIM_PREFIX}{tenant_id}#{contact_id.lower()}"


def _snapshot(values: dict[str, Any]) -> LinkSnapshot:
    names = {f.name for f in dataclasses.fields(LinkSnapshot)}
    kwargs = {k: v for k, v in values.items() if k in names}
    kwargs["version"] = d.as_int(kwargs.get("version"))
    kwargs["xero"] = {str(k): str(v) for k, v in (kwargs.get("xero") or {}).items()}
    kwargs["zoho"] = {str(k): str(v) for k, v in (kwargs.get("zoho") or {}).items()}
    return LinkSnapshot(**kwargs)
