"""Use case: sync one Zoho CRM Account (with its Contacts) into one Xero Contact.

The webhook is only a hint: we always re-read the Account and its Contacts,
validate and map them with the declarative field map, find the Xero contact by
stable identity (stored ContactID, then ContactNumber = Zoho Account id, then an
exact active Name that nobody else owns), write it with an Idempotency-Key,
record the result, and write the outcome back onto the Account.

Never two Xero contacts for one Account: a per-Account lock serialises syncs,
and a lookup by ContactNumber always precedes a create, so even a crash between
the Xero write and our state write only leads to an update next time.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import (
    ConflictError,
    DeadlineExceededError,
    FatalError,
    RejectedError,
    RetriableError,
    SyncError,
)
from chalicelib.mapping import FieldMap, PreparedContact, prepare_contact, writeback_fields
from chalicelib.models.sync import (
    AccountState,
    HistoryEntry,
    SyncAction,
    SyncOutcome,
    SyncStatus,
    Trigger,
)
from chalicelib.services.xero_links import XeroLinks
from chalicelib.store.errors import StaleStateError
from chalicelib.xero.client import ElementResult, XeroClient
from chalicelib.zoho.client import ZohoClient

logger = logging.getLogger(__name__)

MAX_MERGE_HOPS = 5


class StateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def save(self, state: AccountState) -> AccountState: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class HistoryStore(Protocol):
    def add(self, entry: HistoryEntry) -> None: ...


class LockStore(Protocol):
    def acquire_waiting(self, name: str, owner: str, ttl_seconds: float, wait_seconds: float) -> bool: ...
    def release(self, name: str, owner: str) -> None: ...


@dataclass
class SyncDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: StateStore
    history: HistoryStore
    locks: LockStore
    field_map: Callable[[], FieldMap]
    links: XeroLinks
    lock_seconds: float = 120.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass
class SyncRequest:
    account_id: str
    trigger: Trigger
    deadline: Deadline
    run_id: str | None = None
    # Only the last queue attempt turns a passing fault into a visible "Failed".
    final_attempt: bool = True


@dataclass
class _Target:
    """The Xero contact this Account will be written to (None = create)."""

    contact_id: str | None
    adopted: bool = False


class AccountSyncer:
    def __init__(self, deps: SyncDependencies) -> None:
        self.deps = deps

    # --- entry points ------------------------------------------------------

    def account_for_contact(self, contact_id: str, deadline: Deadline) -> str:
        """The Account a Zoho Contact belongs to (a Contacts-module rule syncs its Account)."""
        field_map = self.deps.field_map()
        lookup = field_map.contact_account_field
        contact = self.deps.zoho.get_record("Contacts", contact_id, ["id", lookup], deadline)
        if contact is None:
            raise RejectedError(
                f"Contact {contact_id} was not found in Zoho CRM (was it deleted?). If it still exists, "
                "open its Account in Zoho CRM and click Sync to Xero."
            )
        account = contact.get(lookup) or {}
        if not account.get("id"):
            raise RejectedError(
                "This Contact is not linked to an Account, so there is nothing to sync to Xero. "
                "Set its Account Name in Zoho."
            )
        return str(account["id"])

    def sync(self, request: SyncRequest) -> SyncOutcome:
        """Sync one Account. Returns Synced/Rejected/Failed outcomes; raises RetriableError
        (after recording it) when a passing fault should be retried later."""
        owner = f"sync-{uuid.uuid4()}"
        lock_name = f"account#{request.account_id}"
        wait = min(request.deadline.remaining(), self.deps.lock_seconds)
        if not self.deps.locks.acquire_waiting(lock_name, owner, self.deps.lock_seconds, wait):
            raise DeadlineExceededError("Another sync of this Account is still running; this one was queued.")
        try:
            return self._sync_locked(request)
        finally:
            self.deps.locks.release(lock_name, owner)

    # --- the flow ----------------------------------------------------------

    def _sync_locked(self, request: SyncRequest) -> SyncOutcome:
        field_map = self.deps.field_map()
        account: dict[str, Any] | None = None
        state = self.deps.states.get(request.account_id) or AccountState(account_id=request.account_id)
        try:
            account = self._read_account(request, field_map)
            contacts = self.deps.zoho.get_related_contacts(
                request.account_id, field_map.contact_fields(), request.deadline
            )
            prepared = prepare_contact(account, contacts, field_map)
            tenant_id = self.deps.xero.tenant_id(request.deadline)
            if self._unchanged(state, prepared, tenant_id):
                return self._finish_unchanged(request, field_map, account, state, prepared)
            return self._write_to_xero(request, field_map, account, state, prepared, tenant_id)
        except RejectedError as error:
            return self._finish_not_synced(request, field_map, account, state, SyncStatus.REJECTED, error)
        except FatalError as error:
            return self._finish_not_synced(request, field_map, account, state, SyncStatus.FAILED, error)
        except RetriableError as error:
            if request.final_attempt and not isinstance(error, DeadlineExceededError):
                self._finish_not_synced(request, field_map, account, state, SyncStatus.FAILED, error)
            else:
                self._record_history(request, state, SyncStatus.FAILED, SyncAction.NONE, error, retrying=True)
            raise

    def _read_account(self, request: SyncRequest, field_map: FieldMap) -> dict[str, Any]:
        account = self.deps.zoho.get_record(
            "Accounts", request.account_id, field_map.account_fields(), request.deadline
        )
        if account is None:
            raise RejectedError(not_found_message(request.account_id))
        return account

    def _unchanged(self, state: AccountState, prepared: PreparedContact, tenant_id: str) -> bool:
        return (
            state.status == SyncStatus.SYNCED
            and state.xero_contact_id is not None
            and state.tenant_id == tenant_id
            and state.content_hash == prepared.content_hash
        )

    def _write_to_xero(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        state: AccountState,
        prepared: PreparedContact,
        tenant_id: str,
    ) -> SyncOutcome:
        target = self._resolve_target(request, state, prepared, tenant_id)
        body = dict(prepared.xero_contact)
        if target.contact_id:
            body["ContactID"] = target.contact_id
        key = _idempotency_key(tenant_id, request.account_id, target.contact_id, prepared.content_hash)
        [result] = self.deps.xero.save_contacts([body], idempotency_key=key, deadline=request.deadline)
        if not result.ok:
            raise rejection_from_xero(result, prepared)
        contact_id = str(result.contact_id)
        action = SyncAction.UPDATED if target.contact_id else SyncAction.CREATED
        message = _success_message(action, target.adopted)
        now = _iso(self.deps.now())
        state = self._save_state(
            state,
            xero_contact_id=contact_id,
            tenant_id=tenant_id,
            content_hash=prepared.content_hash,
            status=SyncStatus.SYNCED,
            last_error=None,
            last_synced_at=now,
            last_attempt_at=now,
            account_name=prepared.xero_contact.get("Name"),
        )
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=SyncStatus.SYNCED,
            action=action,
            message=message,
            xero_contact_id=contact_id,
            xero_contact_url=self.deps.links.contact_url(contact_id),
            warnings=list(prepared.warnings) + result.warnings,
        )
        self._record_history(request, state, SyncStatus.SYNCED, action, outcome.message)
        self._write_back(request, field_map, account, outcome, state)
        return outcome

    # --- finding the Xero contact -----------------------------------------

    def _resolve_target(
        self, request: SyncRequest, state: AccountState, prepared: PreparedContact, tenant_id: str
    ) -> _Target:
        deadline = request.deadline
        if state.xero_contact_id and state.tenant_id == tenant_id:
            linked = self.deps.xero.get_contact(state.xero_contact_id, deadline)
            if linked is not None:
                return _Target(self._usable_contact(linked, deadline)["ContactID"])
        by_number = self.deps.xero.get_contact(request.account_id, deadline)
        if by_number is not None:
            return _Target(self._usable_contact(by_number, deadline)["ContactID"])
        return self._match_by_name(request, prepared, tenant_id)

    def _usable_contact(self, contact: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        """Follow merges to the surviving contact; refuse archived ones."""
        for _ in range(MAX_MERGE_HOPS):
            merged_into = contact.get("MergedToContactID")
            if not merged_into or merged_into == contact.get("ContactID"):
                break
            survivor = self.deps.xero.get_contact(merged_into, deadline)
            if survivor is None:
                break
            contact = survivor
        if contact.get("ContactStatus") == "ARCHIVED":
            raise RejectedError(
                f"The Xero contact for this Account (“{contact.get('Name')}”) is archived in Xero, "
                "and we do not restore archived contacts on our own. Restore it in Xero "
                "(Contacts › Archived › Restore) and sync again, or untick Add to Xero."
            )
        if contact.get("ContactStatus") == "GDPRREQUEST":
            raise RejectedError(
                f"The Xero contact for this Account (“{contact.get('Name')}”) has a data-erasure request "
                "in Xero, so it cannot be updated. Resolve it in Xero, then sync again."
            )
        return contact

    def _match_by_name(self, request: SyncRequest, prepared: PreparedContact, tenant_id: str) -> _Target:
        name = str(prepared.xero_contact.get("Name", ""))
        matches = [
            c
            for c in self.deps.xero.find_active_by_name(name, request.deadline)
            if str(c.get("Name", "")).casefold() == name.casefold()
        ]
        if not matches:
            return _Target(None)
        contact = matches[0]
        owner_number = contact.get("ContactNumber")
        linked_account = self.deps.states.find_account_by_xero_contact(tenant_id, contact["ContactID"])
        if owner_number or (linked_account and linked_account != request.account_id):
            raise ConflictError(name_conflict_message(name, owner_number, linked_account))
        return _Target(contact["ContactID"], adopted=True)

    # --- finishing ---------------------------------------------------------

    def _finish_unchanged(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        state: AccountState,
        prepared: PreparedContact,
    ) -> SyncOutcome:
        assert state.xero_contact_id is not None
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=SyncStatus.SYNCED,
            action=SyncAction.UNCHANGED,
            message="Already up to date in Xero; nothing to change.",
            xero_contact_id=state.xero_contact_id,
            warnings=list(prepared.warnings),
        )
        self._record_history(request, state, SyncStatus.SYNCED, SyncAction.UNCHANGED, outcome.message)
        if not _zoho_shows(account, field_map, state.xero_contact_id, SyncStatus.SYNCED):
            outcome.xero_contact_url = self.deps.links.contact_url(state.xero_contact_id)
            self._write_back(request, field_map, account, outcome, state)
        return outcome

    def _finish_not_synced(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any] | None,
        state: AccountState,
        status: SyncStatus,
        error: SyncError,
    ) -> SyncOutcome:
        logger.info(
            "account not synced",
            extra={"account_id": request.account_id, "status": status.value, "reason": error.detail},
        )
        state = self._save_state(
            state, status=status, last_error=error.message, last_attempt_at=_iso(self.deps.now())
        )
        self._record_history(request, state, status, SyncAction.NONE, error)
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=status,
            action=SyncAction.NONE,
            message=error.message,
            xero_contact_id=state.xero_contact_id,
        )
        if account is not None:
            self._write_back(request, field_map, account, outcome, state, quiet=True)
        return outcome

    def _write_back(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        outcome: SyncOutcome,
        state: AccountState,
        *,
        quiet: bool = False,
    ) -> None:
        fields = writeback_fields(
            field_map,
            status=outcome.status.value,
            xero_contact_id=outcome.xero_contact_id,
            xero_contact_url=outcome.xero_contact_url
            or (self.deps.links.contact_url(outcome.xero_contact_id) if outcome.xero_contact_id else None),
            synced_at=zoho_datetime(state.last_synced_at) if state.last_synced_at else None,
            error=None if outcome.status is SyncStatus.SYNCED else outcome.message,
        )
        try:
            results = self.deps.zoho.update_accounts([{"id": request.account_id, **fields}], request.deadline)
            _raise_on_record_error(results)
        except SyncError as error:
            # Xero and our state are right; only the CRM display is behind. Say so, and let
            # the caller queue a retry (which will be an "unchanged" sync plus the write-back).
            logger.warning(
                "write-back to Zoho failed", extra={"account_id": request.account_id, "reason": error.detail}
            )
            if quiet:
                return
            outcome.warnings.append(
                "Xero is up to date, but the sync result could not be written onto the Zoho Account yet; "
                "it will be on the next attempt."
            )
            outcome.writeback_pending = True

    # --- records -----------------------------------------------------------

    def _save_state(self, state: AccountState, **changes: Any) -> AccountState:
        try:
            return self.deps.states.save(replace(state, **changes))
        except StaleStateError:  # someone saved since we read (we hold the lock, so rare): re-read once
            fresh = self.deps.states.get(state.account_id) or AccountState(account_id=state.account_id)
            return self.deps.states.save(replace(fresh, **changes))

    def _record_history(
        self,
        request: SyncRequest,
        state: AccountState,
        status: SyncStatus,
        action: SyncAction,
        message_or_error: str | SyncError,
        *,
        retrying: bool = False,
    ) -> None:
        if not retrying:
            outcome = action.value if status is SyncStatus.SYNCED else status.value.lower()
            # One line per ended sync: an Account's story in the logs (docs/operations.md).
            logger.info(
                "sync ended",
                extra={
                    "event": "sync_ended",
                    "account_id": request.account_id,
                    "outcome": outcome,
                    "source": request.trigger.value,
                    "run_id": request.run_id,
                },
            )
            if request.run_id is None:  # a bulk run counts its Accounts when it accounts a batch
                metrics.sync_finished(outcome, request.trigger)
        if isinstance(message_or_error, SyncError):
            message = message_or_error.message + (" (will retry)" if retrying else "")
            detail = message_or_error.detail
        else:
            message, detail = message_or_error, None
        entry = HistoryEntry(
            account_id=request.account_id,
            at=_iso(self.deps.now()),
            trigger=request.trigger,
            status=status,
            action=action,
            message=message,
            xero_contact_id=state.xero_contact_id,
            run_id=request.run_id,
            detail=detail,
        )
        try:
            self.deps.history.add(entry)
        except Exception:  # history is diagnostic; never fail a sync over it
            logger.exception("could not record sync history", extra={"account_id": request.account_id})


# --- helpers ---------------------------------------------------------------


def _idempotency_key(tenant_id: str, account_id: str, contact_id: str | None, content_hash: str) -> str:
    raw = f"{tenant_id}|{account_id}|{contact_id or 'new'}|{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _success_message(action: SyncAction, adopted: bool) -> str:
    if action is SyncAction.CREATED:
        return "Synced to Xero (created)."
    if adopted:
        return "Synced to Xero (updated): linked to the existing Xero contact with the same name."
    return "Synced to Xero (updated)."


def name_conflict_message(name: str, owner_number: str | None, linked_account: str | None) -> str:
    if owner_number:
        owner = f"its Contact Code is {owner_number}"
    else:
        owner = f"it is already linked to Zoho Account {linked_account}"
    return (
        f"Xero already has a different contact named “{name}” ({owner}). Xero needs contact names "
        "to be unique, so this Account was not synced, to avoid a duplicate. Rename the Account in "
        "Zoho (for example add the city), or, if both are the same customer, clear the Contact Code "
        "on the Xero contact so we can link it."
    )


def rejection_from_xero(result: ElementResult, prepared: PreparedContact) -> RejectedError:
    text = " ".join(m for m in result.errors if m) or "no reason given"
    if "already assigned to another contact" in text and "name" in text.lower():
        name = prepared.xero_contact.get("Name")
        return ConflictError(
            f"Xero already has a different contact named “{name}”. Xero needs contact names to be unique, "
            "so this Account was not synced. Rename the Account in Zoho, or merge the contacts in Xero.",
            detail=text,
        )
    if "Website" in text:
        return RejectedError(
            "Xero will not update this contact because the website saved on it in Xero is not a valid "
            "address (it must start with http:// or https://). Fix the website in Xero, then sync again.",
            detail=text,
        )
    return RejectedError(
        f"Xero did not accept this contact: {text.rstrip('. ')}. Correct the field Xero names on the "
        "Account or its contacts in Zoho CRM, then sync again.",
        detail=text,
    )


def not_found_message(account_id: str) -> str:
    return (
        f"Account {account_id} was not found in Zoho CRM (was it deleted or merged?). If it still "
        "exists, open it in Zoho CRM and click Sync to Xero again."
    )


def _zoho_shows(account: dict[str, Any], field_map: FieldMap, contact_id: str, status: SyncStatus) -> bool:
    """Does the Account already display this result (so a write-back would change nothing)?"""
    return (
        account.get(field_map.writeback.xero_id) == contact_id
        and account.get(field_map.writeback.status) == status.value
        and not account.get(field_map.writeback.error)
        and bool(account.get(field_map.writeback.contact_url))
    )


def _raise_on_record_error(results: list[dict[str, Any]]) -> None:
    for result in results:
        if result.get("status") != "success":
            raise FatalError(
                "Zoho CRM refused the sync result for this Account: "
                f"{result.get('message')} ({(result.get('details') or {}).get('api_name', '')}). "
                "Check that the Xero fields exist on Accounts as described in docs/zoho-setup.md.",
                detail=str(result.get("code")),
            )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def zoho_datetime(iso: str) -> str:
    """Zoho wants ISO 8601 with an offset and no fractional seconds."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
