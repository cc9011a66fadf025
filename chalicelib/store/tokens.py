"""OAuth token sets, with a single-flight refresh lease that survives crashes.

Xero rotates the refresh token on every refresh, so losing the newest one means
a person must reconnect. The protocol:

1. `begin_refresh` takes a lease (conditional update) and returns the stored
   token set. Only one owner holds an unexpired lease at a time.
2. The owner calls the identity provider with that refresh token.
3. `complete_refresh` writes the new set only while the lease is still ours and
   clears it. If someone else took the lease over, it writes nothing and returns
   False: the taker started from the same stored token and its result (or its
   still-running refresh) wins; the caller re-reads.
4. On failure, `abort_refresh` clears the lease and records a plain message.

Crash window: a refresher that dies after Xero answered but before step 3 loses
the new token, yet the stored one was never overwritten. Its lease expires after
`lease_seconds`, and the next refresher retries with the stored token, which
Xero keeps valid for 30 minutes after first use. So leases must be far shorter
than 30 minutes. The stored refresh token is replaced only in step 3 (and by
`replace`, a fresh authorization), always by the token that was issued last.

`owner` must be unique per attempt (e.g. a uuid4). Token values never appear in
exception messages or logs; storage errors are re-raised as StoreError with the
DynamoDB error code only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.models.sync import TokenSet
from chalicelib.models.tokens import TokenStatus
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.errors import StoreError

ENTITY = "TOKEN"
MAX_ERROR_CHARS = 500
_LEASE_ATTRIBUTES = ("lease_owner", "lease_expires_at")


class TokenRepository:
    """Token sets stored as pk TOKEN#{provider}, sk TOKEN."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def get(self, provider: str) -> TokenSet | None:
        # Strongly consistent: another Lambda may have rotated the token a moment ago.
        with _no_secrets("GetItem"):
            response = self._client.get_item(TableName=self._table, Key=_key(provider), ConsistentRead=True)
        item = response.get("Item")
        return _token_set(d.from_item(item)) if item else None

    def describe(self, provider: str) -> TokenStatus | None:
        """The non-secret facts about a token set, for the portal and diagnosis."""
        with _no_secrets("GetItem"):
            response = self._client.get_item(TableName=self._table, Key=_key(provider), ConsistentRead=True)
        item = response.get("Item")
        return _status(d.from_item(item)) if item else None

    def seed(self, token_set: TokenSet) -> bool:
        """Store the first token set (from configuration) unless one exists; True if stored.

        Never overwrites: once running, the stored token is newer than any env var.
        """
        values = _token_values(token_set) | {"version": 1}
        item = d.to_item({s.PK: s.token_pk(token_set.provider), s.SK: s.TOKEN_SK, "entity": ENTITY} | values)
        return self._write(
            "PutItem",
            self._client.put_item,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": s.PK},
        )

    def begin_refresh(self, provider: str, owner: str, lease_seconds: float) -> TokenSet | None:
        """Take the refresh lease and return the token set to refresh from; None if busy or absent."""
        now = self._clock()
        e = d.Expression()
        e.set("lease_owner", owner).set("lease_expires_at", now + lease_seconds)
        lease_owner, lease_exp = e.name("lease_owner"), e.name("lease_expires_at")
        condition = (
            f"attribute_exists({e.name(s.PK)}) AND (attribute_not_exists({lease_owner})"
            f" OR {lease_exp} <= {e.value(now)} OR {lease_owner} = {e.value(owner)})"
        )
        with _no_secrets("UpdateItem"):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=_key(provider),
                    ReturnValues="ALL_NEW",
                    **e.update_args(condition),
                )
            except ClientError as exc:
                if d.is_condition_failure(exc):
                    return None
                raise
        return _token_set(d.from_item(response["Attributes"]))

    def complete_refresh(self, provider: str, owner: str, new: TokenSet) -> bool:
        """Store the refreshed set if the lease is still ours; False means re-read.

        Also accepted without the lease: no lease is held and the stored version
        is still `new.version` (the version `begin_refresh` returned), i.e. our
        lease expired but nobody stored anything since; a taker that gave up
        cleared it. Keeping our newer token is then better than dropping it.

        A refresh token of None keeps the stored one (Zoho does not rotate).
        """
        if not new.access_token:
            raise ValueError("a refreshed token set needs an access token")
        now = self._clock()
        e = _refresh_update(new, now)
        # Stored versions start at 1, so a set built from scratch (version 0) needs the lease.
        lease_owner = e.name("lease_owner")
        condition = (
            f"attribute_exists({e.name(s.PK)}) AND ({lease_owner} = {e.value(owner)}"
            f" OR (attribute_not_exists({lease_owner}) AND {e.name('version')} = {e.value(new.version)}))"
        )
        with _no_secrets("UpdateItem"):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(provider),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **e.update_args(condition),
                )
            except ClientError as exc:
                if d.is_condition_failure(exc):
                    return _already_stored(exc, new)
                raise
        return True

    def abort_refresh(self, provider: str, owner: str, error: str | None = None) -> None:
        """Release our lease, recording `error` (a plain message, never a token).

        A no-op when the lease is no longer ours: the new holder's work must stand.
        """
        e = d.Expression().remove(*_LEASE_ATTRIBUTES)
        if error is not None:
            e.set("last_error", _clip(error)).set("last_error_at", self._clock())
        condition = f"{e.name('lease_owner')} = {e.value(owner)}"
        args = e.update_args(condition)
        self._write("UpdateItem", self._client.update_item, Key=_key(provider), **args)

    def replace(self, token_set: TokenSet) -> TokenSet:
        """Store a fresh authorization (the "connect" flow), whatever is stored or in flight.

        Bumps the version and drops any lease, so a refresh that started from the
        old authorization can no longer complete over the new one.
        """
        e = d.Expression()
        for attribute, value in _token_values(token_set).items():
            e.set(attribute, value)
        e.set("entity", ENTITY)
        e.set_raw("version", f"if_not_exists({e.name('version')}, {e.value(0)}) + {e.value(1)}")
        e.remove(*_LEASE_ATTRIBUTES, "previous_refresh_token", "rotated_at", "last_error_at")
        with _no_secrets("UpdateItem"):
            response = self._client.update_item(
                TableName=self._table, Key=_key(token_set.provider), ReturnValues="ALL_NEW", **e.update_args()
            )
        return _token_set(d.from_item(response["Attributes"]))

    def remember(self, provider: str, tenant_id: str, facts: dict[str, str]) -> bool:
        """Keep facts about the connected organisation (Xero's name for it, its short code) with
        the stored set while it is still connected to `tenant_id` (False: reconnected meanwhile)."""
        e = d.Expression()
        for attribute, value in facts.items():
            e.set(attribute, value)
        condition = f"{e.name('tenant_id')} = {e.value(tenant_id)}"
        return self._write(
            "UpdateItem", self._client.update_item, Key=_key(provider), **e.update_args(condition)
        )

    def _write(self, operation: str, call: Callable[..., Any], **kwargs: Any) -> bool:
        with _no_secrets(operation):
            return d.write_if(call, TableName=self._table, **kwargs)


def _key(provider: str) -> d.Item:
    return s.key(s.token_pk(provider), s.TOKEN_SK)


def _token_values(token_set: TokenSet) -> dict[str, Any]:
    return {
        "provider": token_set.provider,
        "access_token": token_set.access_token,
        "refresh_token": token_set.refresh_token,
        "expires_at": float(token_set.expires_at),
        "tenant_id": token_set.tenant_id,
        "api_domain": token_set.api_domain,
        "tenant_name": token_set.tenant_name,
        "short_code": token_set.short_code,
        "refreshed_at": token_set.refreshed_at,
        "last_error": token_set.last_error,
    }


def _refresh_update(new: TokenSet, now: float) -> d.Expression:
    e = d.Expression()
    e.set("access_token", new.access_token)
    e.set("expires_at", float(new.expires_at))
    e.set("refreshed_at", new.refreshed_at if new.refreshed_at is not None else now)
    if new.refresh_token:
        # Operands see the item before the update, so this keeps the old token.
        e.set_raw("previous_refresh_token", f"if_not_exists({e.name('refresh_token')}, {e.value(None)})")
        e.set("refresh_token", new.refresh_token)
        e.set("rotated_at", now)
    for optional in ("tenant_id", "api_domain", "tenant_name", "short_code"):
        if getattr(new, optional):
            e.set(optional, getattr(new, optional))
    e.set_raw("version", f"{e.name('version')} + {e.value(1)}")
    return e.remove(*_LEASE_ATTRIBUTES, "last_error", "last_error_at")


def _already_stored(exc: ClientError, new: TokenSet) -> bool:
    """True when the stored set is exactly `new`: our own write, retried after a lost response."""
    old = d.from_item(exc.response.get("Item") or {})
    same_access = old.get("access_token") == new.access_token
    same_refresh = not new.refresh_token or old.get("refresh_token") == new.refresh_token
    return bool(old) and same_access and same_refresh


def _token_set(values: dict[str, Any]) -> TokenSet:
    return TokenSet(
        provider=values["provider"],
        access_token=values.get("access_token"),
        refresh_token=values.get("refresh_token"),
        expires_at=d.as_float(values.get("expires_at")) or 0.0,
        tenant_id=values.get("tenant_id"),
        api_domain=values.get("api_domain"),
        tenant_name=values.get("tenant_name"),
        short_code=values.get("short_code"),
        refreshed_at=d.as_float(values.get("refreshed_at")),
        last_error=values.get("last_error"),
        version=d.as_int(values.get("version")),
    )


def _status(values: dict[str, Any]) -> TokenStatus:
    return TokenStatus(
        provider=values["provider"],
        version=d.as_int(values.get("version")),
        has_refresh_token=bool(values.get("refresh_token")),
        expires_at=d.as_float(values.get("expires_at")) or 0.0,
        refreshed_at=d.as_float(values.get("refreshed_at")),
        rotated_at=d.as_float(values.get("rotated_at")),
        lease_owner=values.get("lease_owner"),
        lease_expires_at=d.as_float(values.get("lease_expires_at")),
        last_error=values.get("last_error"),
        last_error_at=d.as_float(values.get("last_error_at")),
    )


def _clip(message: str) -> str:
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"


@contextmanager
def _no_secrets(operation: str) -> Iterator[None]:
    """Re-raise storage errors with the error code only.

    botocore messages can quote request parameters, and these requests carry tokens.
    """
    try:
        yield
    except ClientError as exc:
        if d.is_condition_failure(exc):
            raise  # handled by the caller, never logged as is
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise StoreError(f"Token store {operation} failed ({code})") from None
    except BotoCoreError as exc:
        raise StoreError(f"Token store {operation} failed ({type(exc).__name__})") from None
