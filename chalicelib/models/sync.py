"""The service's own records: sync state, history entries, outcomes and tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SyncStatus(StrEnum):
    """Values written to the Account's `Xero_Sync_Status` picklist."""

    SYNCED = "Synced"
    FAILED = "Failed"
    REJECTED = "Rejected"
    ARCHIVED = "Archived in Xero"  # its Xero contact is archived: nothing syncs until restored
    CONFLICT = "Conflict"  # Both Way held a field both sides changed (CONFLICT_POLICY=hold)


_ANSWER_STATUS = {SyncStatus.SYNCED: "synced", SyncStatus.ARCHIVED: "rejected"}


class SyncAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    NONE = "none"  # nothing was written (rejected or failed)


class Trigger(StrEnum):
    BUTTON = "button"
    WORKFLOW = "workflow"
    RUN = "run"
    PORTAL = "portal"  # "Sync now" on an Account's page in the portal
    XERO = "xero"  # a change made in Xero (its webhook, or a xero_to_zoho run)
    ZOHO_DELETE = "zoho_delete"  # the Account was deleted in Zoho CRM (services/zoho_deletions.py)


@dataclass
class AccountState:
    """What we know about one Zoho Account's link to Xero (one DynamoDB item)."""

    account_id: str
    xero_contact_id: str | None = None
    tenant_id: str | None = None
    content_hash: str | None = None
    status: SyncStatus | None = None
    last_error: str | None = None
    last_synced_at: str | None = None  # ISO 8601, UTC
    last_attempt_at: str | None = None
    account_name: str | None = None
    # The bulk run that last wrote this Account to Xero and what it did, so a
    # redelivered batch reports "created" again instead of "unchanged".
    last_run_id: str | None = None
    last_action: str | None = None
    version: int = 0  # optimistic concurrency: every save increments it


@dataclass
class HistoryEntry:
    """One attempt to sync an Account, newest first in the timeline."""

    account_id: str
    at: str  # ISO 8601, UTC
    trigger: Trigger
    status: SyncStatus
    action: SyncAction
    message: str
    xero_contact_id: str | None = None
    run_id: str | None = None
    detail: str | None = None


@dataclass
class SyncOutcome:
    """The result of syncing one Account, as shown to the person who asked."""

    account_id: str
    status: SyncStatus
    action: SyncAction
    message: str
    xero_contact_id: str | None = None
    xero_contact_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Xero and our records are right but the Zoho Account does not show it yet.
    writeback_pending: bool = False

    def to_response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            # The button's answer keeps its three statuses: an archived contact is a refusal.
            "status": _ANSWER_STATUS.get(self.status, self.status.value.lower()),
            "message": self.message,
            "account_id": self.account_id,
        }
        if self.status is SyncStatus.SYNCED:
            body["action"] = self.action.value
        if self.xero_contact_id:
            body["xero_contact_id"] = self.xero_contact_id
        if self.xero_contact_url:
            body["xero_contact_url"] = self.xero_contact_url
        if self.warnings:
            body["warnings"] = list(self.warnings)
        return body


@dataclass
class TokenSet:
    """An OAuth token set as stored (provider = "xero" or "zoho")."""

    provider: str
    # repr=False: a logged or printed TokenSet must never show a token.
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float = 0.0  # epoch seconds when the access token stops working
    tenant_id: str | None = None
    api_domain: str | None = None  # Zoho: the data centre's API host
    # Xero: what /connections and /Organisation told us about `tenant_id`, kept with the token set
    # so a fresh process (a cold Lambda) need not ask again; a reconnect clears them.
    tenant_name: str | None = None
    short_code: str | None = None  # the organisation's ShortCode, for deep links into Xero
    refreshed_at: float | None = None
    last_error: str | None = None
    version: int = 0
