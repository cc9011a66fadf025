"""Per-Account sync state with optimistic concurrency.

Each save is a conditional PutItem on `version`, so two writers that read the
same version cannot both win: the loser gets StaleStateError and must re-read.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.models.sync import AccountState, SyncStatus
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.errors import StaleStateError

ENTITY = "ACCOUNT_STATE"
BATCH_GET_LIMIT = 100  # DynamoDB's BatchGetItem maximum


@dataclass(frozen=True)
class SaveResult:
    """The outcome of one save in `save_many`: the new state, or the conflict."""

    account_id: str
    state: AccountState | None = None  # as stored, with its new version
    conflict: StaleStateError | None = None

    @property
    def ok(self) -> bool:
        return self.conflict is None


class AccountStateRepository:
    """Reads and writes `AccountState` items (pk ACCOUNT#{id}, sk STATE)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        max_workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table_name
        self._max_workers = max_workers
        self._sleep = sleep

    def get(self, account_id: str) -> AccountState | None:
        # Strongly consistent: the version we read is the one the next save is checked against.
        response = self._client.get_item(TableName=self._table, Key=_key(account_id), ConsistentRead=True)
        item = response.get("Item")
        return _from_item(item) if item else None

    def save(self, state: AccountState) -> AccountState:
        """Store `state` if nobody wrote since it was read; return it with version + 1.

        version 0 means "new": the write then requires that no item exists yet.
        """
        stored = dataclasses.replace(state, version=state.version + 1)
        try:
            self._client.put_item(
                TableName=self._table, Item=_to_item(stored), **d.version_condition(state.version)
            )
        except ClientError as exc:
            if d.is_condition_failure(exc):
                raise StaleStateError(state.account_id, state.version) from None
            raise
        return stored

    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None:
        """The Account linked to a Xero contact, if any.

        The GSI is eventually consistent, so a link saved a moment ago may not show
        yet; use it to detect collisions, not as the per-Account lock.
        """
        response = self._client.query(
            TableName=self._table,
            IndexName=s.GSI1,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": s.GSI1_PK},
            ExpressionAttributeValues={":pk": {"S": s.xero_contact_gsi1pk(tenant_id, contact_id)}},
            Limit=1,  # gsi1sk orders candidates, so the answer is stable if two ever collide
        )
        items = response.get("Items", [])
        return items[0]["account_id"]["S"] if items else None

    def get_many(self, account_ids: Iterable[str]) -> dict[str, AccountState]:
        """States for the given Accounts (missing ones are simply absent from the result)."""
        unique = list(dict.fromkeys(account_ids))  # BatchGetItem rejects duplicate keys
        found: dict[str, AccountState] = {}
        for chunk in d.chunks(unique, BATCH_GET_LIMIT):
            request: dict[str, dict[str, Any]] = {
                self._table: {"Keys": [_key(i) for i in chunk], "ConsistentRead": True}
            }
            d.retry_unprocessed(
                "BatchGetItem",
                lambda req: self._batch_get(req, found),
                request,
                lambda req: sum(len(t["Keys"]) for t in req.values()),
                self._sleep,
            )
        return found

    def save_many(self, states: Sequence[AccountState]) -> list[SaveResult]:
        """Save each state with its own version check; results come back in input order.

        Individual conditional puts rather than TransactWriteItems: a transaction is
        all-or-nothing, so one stale Account would cancel up to 99 good ones (and it
        costs twice the write units). Conflicts are reported per item; any other
        error (after botocore's own retries) propagates.
        """
        if not states:
            return []
        with ThreadPoolExecutor(max_workers=min(self._max_workers, len(states))) as pool:
            return list(pool.map(self._save_one, states))

    def _save_one(self, state: AccountState) -> SaveResult:
        try:
            return SaveResult(state.account_id, state=self.save(state))
        except StaleStateError as conflict:
            return SaveResult(state.account_id, conflict=conflict)

    def _batch_get(self, request: dict[str, Any], found: dict[str, AccountState]) -> dict[str, Any]:
        response = self._client.batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(self._table, []):
            state = _from_item(item)
            found[state.account_id] = state
        return response.get("UnprocessedKeys") or {}


def _key(account_id: str) -> d.Item:
    return s.key(s.account_pk(account_id), s.ACCOUNT_STATE_SK)


def _to_item(state: AccountState) -> d.Item:
    values: dict[str, Any] = dataclasses.asdict(state)
    values.update({s.PK: s.account_pk(state.account_id), s.SK: s.ACCOUNT_STATE_SK, "entity": ENTITY})
    # Only a complete link is indexed; the index stays sparse otherwise.
    if state.tenant_id and state.xero_contact_id:
        values[s.GSI1_PK] = s.xero_contact_gsi1pk(state.tenant_id, state.xero_contact_id)
        values[s.GSI1_SK] = s.account_pk(state.account_id)
    return d.to_item(values)


def _from_item(item: d.Item) -> AccountState:
    values = d.from_item(item)
    fields = {f.name for f in dataclasses.fields(AccountState)}
    kwargs = {k: v for k, v in values.items() if k in fields}
    kwargs["version"] = d.as_int(kwargs.get("version"))
    if kwargs.get("status") is not None:
        kwargs["status"] = SyncStatus(kwargs["status"])
    return AccountState(**kwargs)
