"""AccountSyncer: read the Account, let services/sync/decide.py decide, write to Xero."""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, FatalError, RejectedError, RetriableError
from chalicelib.mapping import FieldMap, PreparedContact, prepare_contact
from chalicelib.models.sync import AccountState, SyncAction, SyncOutcome, SyncStatus
from chalicelib.services.account_lock import account_lock
from chalicelib.services.both_way import Merged
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import Decision, Verdict, decide, is_unchanged, synced_record
from chalicelib.services.sync.directory import LiveDirectory
from chalicelib.services.sync.lifecycle import rejection_status
from chalicelib.services.sync_account.model import SyncDependencies, SyncRequest
from chalicelib.services.sync_account.records import SyncRecords
from chalicelib.services.xero_merge import without_taken_number


class AccountSyncer:
    def __init__(self, deps: SyncDependencies) -> None:
        self.deps = deps
        self.records = SyncRecords(deps)

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
        finish = self.records.finish_not_synced
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
                    state = self.records.save_state(state, content_hash=prepared.content_hash)
            outcome = self._decide_and_write(request, field_map, account, state, prepared, tenant_id, merged)
            return self._show_merge(request, field_map, merged, outcome)
        except RejectedError as error:
            return finish(request, field_map, account, state, rejection_status(error), error)
        except FatalError as error:
            return finish(request, field_map, account, state, SyncStatus.FAILED, error)
        except RetriableError as error:
            if request.final_attempt and not isinstance(error, DeadlineExceededError):
                finish(request, field_map, account, state, SyncStatus.FAILED, error)
            else:
                self.records.history(request, state, SyncStatus.FAILED, SyncAction.NONE, error, retrying=True)
            raise

    def _decide_and_write(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        state: AccountState,
        prepared: PreparedContact,
        tenant_id: str,
        merged: Merged | None,
    ) -> SyncOutcome:
        """Unchanged (the Account's display caught up if behind), refused, or written to Xero."""
        directory = LiveDirectory(self.deps.xero, request.deadline)
        decision = decide(request.account_id, prepared, state, tenant_id, directory, self.deps.states)
        if decision.verdict is Verdict.UNCHANGED:
            return self.records.finish_unchanged(request, field_map, account, state, prepared)
        if decision.error is not None:
            raise decision.error
        prepared = without_taken_number(request.account_id, prepared, decision.contact, directory)
        return self._write_to_xero(request, field_map, account, state, prepared, decision, tenant_id, merged)

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
        synced = synced_record(contact_id, tenant_id, prepared, self.deps.now())
        state = self.records.save_state(state, **synced)
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
        self.records.history(request, state, SyncStatus.SYNCED, outcome.action, outcome.message)
        self.records.write_back(request, field_map, account, outcome, state)
        return outcome

    def _with_clears(
        self,
        account_id: str,
        contact_id: str,
        body: dict[str, Any],
        field_map: FieldMap,
        merged: Merged | None = None,
    ) -> dict[str, Any]:
        """`pair_snapshots.with_clears` with this Account's last synced values."""
        from chalicelib.services.pair_snapshots import with_clears

        snapshot = self.deps.snapshots.get(account_id) if self.deps.snapshots is not None else None
        return with_clears(snapshot, contact_id, body, field_map, merged.xero_keeps if merged else None)

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
        return self.deps.both_way.for_click(
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
        both_way = self.deps.both_way
        if both_way is None or merged is None or not merged.result.held or outcome.xero_contact_id is None:
            return outcome
        both_way.keep_held(request.account_id, merged)
        shown = both_way.shown(
            field_map, outcome.xero_contact_id, outcome.xero_contact_url, merged.result.held
        )
        self.deps.zoho.update_accounts([{"id": request.account_id, **shown}], request.deadline)
        outcome.message = str(shown[field_map.writeback.error])
        return outcome


def _idempotency_key(tenant_id: str, account_id: str, contact_id: str | None, content_hash: str) -> str:
    raw = f"{tenant_id}|{account_id}|{contact_id or 'new'}|{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()
