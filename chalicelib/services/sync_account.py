"""Use case: sync one Zoho CRM Account (with its Contacts) into one Xero Contact.

The webhook is only a hint: we always re-read the Account and its Contacts,
validate and map them with the declarative field map, let `services/sync/decide.py`
decide (unchanged? which Xero contact, by stable identity, read live from Xero?),
write it with an Idempotency-Key, record the result, and write the outcome back
onto the Account.

Never two Xero contacts for one Account: a per-Account lock serialises syncs,
and a lookup by ContactNumber always precedes a create, so even a crash between
the Xero write and our state write only leads to an update next time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, FatalError, RejectedError, RetriableError, SyncError
from chalicelib.mapping import FieldMap, PreparedContact, prepare_contact
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncOutcome, SyncStatus, Trigger
from chalicelib.services.account_lock import Locks, account_lock
from chalicelib.services.both_way import Merged
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import (
    Decision,
    Verdict,
    decide,
    is_unchanged,
    synced_record,
    zoho_shows,
    zoho_update,
)
from chalicelib.services.sync.directory import LiveDirectory
from chalicelib.services.sync.lifecycle import rejection_status
from chalicelib.services.xero_links import XeroLinks
from chalicelib.services.xero_merge import without_taken_number
from chalicelib.store.errors import StaleStateError
from chalicelib.timestamps import iso_seconds
from chalicelib.xero.client import XeroClient
from chalicelib.zoho.client import ZohoClient

logger = logging.getLogger(__name__)


class StateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def save(self, state: AccountState) -> AccountState: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class HistoryStore(Protocol):
    def add(self, entry: HistoryEntry) -> None: ...


@dataclass
class SyncDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: StateStore
    history: HistoryStore
    locks: Locks
    field_map: Callable[[], FieldMap]
    links: XeroLinks
    lock_seconds: float = 120.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The pair's last synced values (store/snapshots.py), so Xero's echo of our write is ignored.
    snapshots: Any = None
    # SYNC_MODE=both: services/both_way.BothWay merges a linked pair before pushing it.
    both_way: Any = None


@dataclass
class SyncRequest:
    account_id: str
    trigger: Trigger
    deadline: Deadline
    run_id: str | None = None
    # Only the last queue attempt turns a passing fault into a visible "Failed".
    final_attempt: bool = True


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
            raise RejectedError(messages.contact_not_found_message(contact_id))
        account = contact.get(lookup) or {}
        if not account.get("id"):
            raise RejectedError(messages.NO_ACCOUNT)
        return str(account["id"])

    def sync(self, request: SyncRequest) -> SyncOutcome:
        """Sync one Account. Returns Synced/Rejected/Failed outcomes; raises RetriableError
        (after recording it) when a passing fault should be retried later."""
        with account_lock(
            self.deps.locks,
            request.account_id,
            purpose="sync",
            deadline=request.deadline,
            lock_seconds=self.deps.lock_seconds,
            busy=DeadlineExceededError("Another sync of this Account is still running; this one was queued."),
        ):
            return self._sync_locked(request)

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
            merged = self._merge_both_ways(request, state, account, contacts, prepared)
            if merged is not None:  # SYNC_MODE=both: Xero's changes are on the Account now
                unchanged = is_unchanged(state, prepared.content_hash, tenant_id)
                account, contacts = merged.account, merged.contacts
                prepared = prepare_contact(account, contacts, field_map)
                if unchanged and not merged.result.to_xero:  # only Zoho moved, to Xero's values
                    state = self._save_state(state, content_hash=prepared.content_hash)
            directory = LiveDirectory(self.deps.xero, request.deadline)
            decision = decide(request.account_id, prepared, state, tenant_id, directory, self.deps.states)
            if decision.verdict is Verdict.UNCHANGED:
                outcome = self._finish_unchanged(request, field_map, account, state, prepared)
                return self._show_merge(request, field_map, merged, outcome)
            if decision.error is not None:
                raise decision.error
            prepared = without_taken_number(request.account_id, prepared, decision.contact, directory)
            outcome = self._write_to_xero(
                request, field_map, account, state, prepared, decision, tenant_id, merged
            )
            return self._show_merge(request, field_map, merged, outcome)
        except RejectedError as error:
            return self._finish_not_synced(request, field_map, account, state, rejection_status(error), error)
        except FatalError as error:
            return self._finish_not_synced(request, field_map, account, state, SyncStatus.FAILED, error)
        except RetriableError as error:
            if request.final_attempt and not isinstance(error, DeadlineExceededError):
                self._finish_not_synced(request, field_map, account, state, SyncStatus.FAILED, error)
            else:
                self._record_history(request, state, SyncStatus.FAILED, SyncAction.NONE, error, retrying=True)
            raise

    def _read_account(self, request: SyncRequest, field_map: FieldMap) -> dict[str, Any]:
        # Both Way's newest_wins compares the Account's Modified_Time with Xero's UpdatedDateUTC.
        extra = ["Modified_Time"] if self.deps.both_way is not None else []
        account = self.deps.zoho.get_record(
            "Accounts", request.account_id, field_map.account_fields() + extra, request.deadline
        )
        if account is None:
            raise RejectedError(messages.not_found_message(request.account_id))
        return account

    def _write_to_xero(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        state: AccountState,
        prepared: PreparedContact,
        decision: Decision,
        tenant_id: str,
        merged: Merged | None = None,
    ) -> SyncOutcome:
        body = dict(prepared.xero_contact)
        if decision.contact_id:
            body = self._with_clears(request.account_id, decision.contact_id, body, field_map, merged)
            body["ContactID"] = decision.contact_id
        key = _idempotency_key(tenant_id, request.account_id, decision.contact_id, prepared.content_hash)
        [result] = self.deps.xero.save_contacts([body], idempotency_key=key, deadline=request.deadline)
        if not result.ok:
            raise messages.rejection_from_xero(result.errors, prepared.xero_contact.get("Name"))
        contact_id = str(result.contact_id)
        state = self._save_state(state, **synced_record(contact_id, tenant_id, prepared, self.deps.now()))
        self.remember_pair(request.account_id, tenant_id, result.contact, prepared, field_map)
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=SyncStatus.SYNCED,
            action=decision.action,
            message=decision.message,
            xero_contact_id=contact_id,
            xero_contact_url=self.deps.links.contact_url(contact_id),
            warnings=list(prepared.warnings) + result.warnings,
        )
        self._record_history(request, state, SyncStatus.SYNCED, outcome.action, outcome.message)
        self._write_back(request, field_map, account, outcome, state)
        return outcome

    def _with_clears(
        self,
        account_id: str,
        contact_id: str,
        body: dict[str, Any],
        field_map: FieldMap,
        merged: Merged | None = None,
    ) -> dict[str, Any]:
        """The fields emptied in Zoho since the last sync to this contact, sent so Xero clears
        them too (the map leaves empty values out, and Xero keeps what a request leaves out);
        with Both Way, a held field keeps Xero's value."""
        snapshot = self.deps.snapshots.get(account_id) if self.deps.snapshots is not None else None
        if snapshot is None or (snapshot.contact_id or "") != contact_id.lower():
            return body
        from chalicelib.mapping.clearing import cleared_since, with_values
        from chalicelib.mapping.directions import mapped_fields

        fields = mapped_fields(field_map)
        values = {**cleared_since(body, snapshot.zoho, fields), **(merged.xero_keeps if merged else {})}
        return with_values(body, values, fields)

    # --- Both Way (SYNC_MODE=both; services/both_way.py) ----------------------

    def _merge_both_ways(
        self,
        request: SyncRequest,
        state: AccountState,
        account: dict[str, Any],
        contacts: list[dict[str, Any]],
        prepared: PreparedContact,
    ) -> Merged | None:
        if self.deps.both_way is None:
            return None
        return self.deps.both_way.for_click(  # type: ignore[no-any-return]
            request.account_id,
            state.xero_contact_id,
            account,
            contacts,
            prepared.primary_contact_id,
            request.trigger,
            request.deadline,
            request.run_id,
        )

    def _show_merge(
        self, request: SyncRequest, field_map: FieldMap, merged: Merged | None, outcome: SyncOutcome
    ) -> SyncOutcome:
        """Held conflicts: the snapshot keeps their base, and the Account says "Conflict"."""
        if merged is None or not merged.result.held or outcome.xero_contact_id is None:
            return outcome
        self.deps.both_way.keep_held(request.account_id, merged)
        shown = self.deps.both_way.shown(
            field_map, outcome.xero_contact_id, outcome.xero_contact_url, merged.result.held
        )
        self.deps.zoho.update_accounts([{"id": request.account_id, **shown}], request.deadline)
        outcome.message = str(shown[field_map.writeback.error])
        return outcome

    def remember_pair(
        self,
        account_id: str,
        tenant_id: str,
        contact: dict[str, Any],
        prepared: PreparedContact,
        field_map: FieldMap,
    ) -> None:
        if self.deps.snapshots is None:
            return
        from chalicelib.services.pair_snapshots import record_push

        record_push(
            self.deps.snapshots,
            account_id,
            tenant_id,
            contact,
            prepared.xero_contact,
            prepared.primary_contact_id,
            field_map,
            self.deps.now(),
        )

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
            message=messages.UNCHANGED,
            xero_contact_id=state.xero_contact_id,
            warnings=list(prepared.warnings),
        )
        self._record_history(request, state, SyncStatus.SYNCED, SyncAction.UNCHANGED, outcome.message)
        if not zoho_shows(account, field_map, SyncStatus.SYNCED, state.xero_contact_id):
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
            state, status=status, last_error=error.message, last_attempt_at=iso_seconds(self.deps.now())
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
        contact_id = outcome.xero_contact_id
        url = outcome.xero_contact_url or (self.deps.links.contact_url(contact_id) if contact_id else None)
        fields = zoho_update(
            field_map, outcome.status, contact_id, url, state.last_synced_at, outcome.message
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
            _report_ended(request, action.value if status is SyncStatus.SYNCED else status.value.lower())
        if isinstance(message_or_error, SyncError):
            message = message_or_error.message + (" (will retry)" if retrying else "")
            detail = message_or_error.detail
        else:
            message, detail = message_or_error, None
        entry = HistoryEntry(
            account_id=request.account_id,
            at=iso_seconds(self.deps.now()),
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


def _report_ended(request: SyncRequest, outcome: str) -> None:
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


def _idempotency_key(tenant_id: str, account_id: str, contact_id: str | None, content_hash: str) -> str:
    raw = f"{tenant_id}|{account_id}|{contact_id or 'new'}|{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _raise_on_record_error(results: list[dict[str, Any]]) -> None:
    for result in results:
        if result.get("status") != "success":
            raise FatalError(
                "Zoho CRM refused the sync result for this Account: "
                f"{result.get('message')} ({(result.get('details') or {}).get('api_name', '')}). "
                "Check that the Xero fields exist on Accounts as described in docs/zoho-setup.md.",
                detail=str(result.get("code")),
            )
