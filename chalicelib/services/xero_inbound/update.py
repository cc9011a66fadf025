"""A contact already linked to an Account: under the Account's lock, the changed values onto
the Account and its primary Contact (or, under SYNC_MODE=both, the merge of the pair), and the
pair's snapshot saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.errors import RejectedError, RetriableError
from chalicelib.mapping.validate import choose_primary, own_contacts
from chalicelib.models.sync import SyncAction, SyncStatus, Trigger
from chalicelib.services.account_lock import ANOTHER_SYNC_RUNNING, account_lock
from chalicelib.services.sync import messages
from chalicelib.services.sync.from_xero import (
    InboundDecision,
    InboundVerdict,
    decide_linked,
    shown_in_zoho,
)
from chalicelib.services.xero_inbound.model import (
    ContactChange,
    InboundDependencies,
    InboundOutcome,
    ZohoRefused,
)
from chalicelib.services.xero_inbound.records import InboundRecords
from chalicelib.services.xero_inbound.writes import InboundWrites
from chalicelib.store.snapshots import LinkSnapshot


class LinkedUpdate:
    def __init__(self, deps: InboundDependencies, records: InboundRecords, writes: InboundWrites) -> None:
        self.deps = deps
        self.records = records
        self.writes = writes

    def sync(self, change: ContactChange, account_id: str) -> InboundOutcome:
        """Under the Account's lock (the one a Zoho → Xero sync takes too)."""
        with account_lock(
            self.deps.locks,
            account_id,
            purpose="xero",
            deadline=change.deadline,
            lock_seconds=self.deps.lock_seconds,
            busy=RetriableError(ANOTHER_SYNC_RUNNING),
        ):
            return self._update(change, account_id)

    def _update(self, change: ContactChange, account_id: str) -> InboundOutcome:
        contact_id = change.contact_id
        account = self._read_account(account_id, change)
        snapshot = self.deps.snapshots.get(account_id)
        primary = self._primary(account_id, account, snapshot, change)
        decision = decide_linked(change.contact, account, primary, snapshot, change.fields)
        if decision.verdict is InboundVerdict.STALE:
            return InboundOutcome(contact_id, decision.verdict, account_id)
        now = self.deps.now()
        self._own_identity(change, account_id)
        self.records.link_state(account_id, change.tenant_id, contact_id, change.contact, now)
        if self.deps.both_way is not None and snapshot is not None and snapshot.xero:
            return self._both_ways(change, account_id, account, primary, snapshot)
        shows_link = str(account.get(change.field_map.writeback.xero_id) or "").lower() == contact_id
        if decision.verdict is not InboundVerdict.UPDATE and shows_link:
            self.records.save_snapshot(
                snapshot, account_id, change.tenant_id, change.contact, change.fields, account, primary
            )
            return InboundOutcome(contact_id, decision.verdict, account_id)
        return self._apply(change, account_id, account, primary, snapshot, decision, now)

    def _apply(
        self,
        change: ContactChange,
        account_id: str,
        account: dict[str, Any],
        primary: dict[str, Any] | None,
        snapshot: LinkSnapshot | None,
        decision: InboundDecision,
        now: datetime,
    ) -> InboundOutcome:
        """The changed values onto the person, then the Account (showing the link); the snapshot."""
        contact_id = change.contact_id
        url = self.deps.contact_url(contact_id)
        try:
            primary_id = self.writes.person(account_id, primary, decision, change)
            update = {**decision.account_fields, **shown_in_zoho(change.field_map, contact_id, url, now)}
            self.writes.zoho("PUT", "Accounts", {"id": account_id, **update}, change)
        except ZohoRefused as refused:
            return self.writes.report_refusal(
                change.tenant_id, contact_id, account_id, refused, change.field_map, change.deadline
            )
        merged_account = {**account, **decision.account_fields}
        merged_primary = {**(primary or {}), **decision.contact_fields}
        self.records.save_snapshot(
            snapshot,
            account_id,
            change.tenant_id,
            change.contact,
            change.fields,
            merged_account,
            merged_primary,
            primary_id,
        )
        message = messages.FROM_XERO_UPDATED
        self.records.history(account_id, contact_id, SyncStatus.SYNCED, SyncAction.UPDATED, message)
        return InboundOutcome(contact_id, InboundVerdict.UPDATE, account_id, message)

    def _both_ways(
        self,
        change: ContactChange,
        account_id: str,
        account: dict[str, Any],
        primary: dict[str, Any] | None,
        snapshot: LinkSnapshot,
    ) -> InboundOutcome:
        """SYNC_MODE=both: services/both_way.py merges the pair and writes each side what it lacks."""
        from chalicelib.services.both_way import Pair

        assert self.deps.both_way is not None
        contact_id = change.contact_id
        tenant_id = snapshot.tenant_id or ""

        def write(module: str, record: dict[str, Any]) -> None:
            self.writes.zoho("PUT", module, record, change)

        pair = Pair(account_id, account, primary, change.contact, snapshot, Trigger.XERO)
        try:
            result = self.deps.both_way.on_xero_change(
                pair, self.deps.contact_url(contact_id), write, change.deadline
            )
        except ZohoRefused as refused:
            return self.writes.report_refusal(
                tenant_id, contact_id, account_id, refused, change.field_map, change.deadline
            )
        if not result.writes and not result.conflicts:
            return InboundOutcome(contact_id, InboundVerdict.ECHO, account_id)
        message = messages.merge_summary(result)
        self.records.history(account_id, contact_id, SyncStatus.SYNCED, SyncAction.UPDATED, message)
        return InboundOutcome(contact_id, InboundVerdict.UPDATE, account_id, message)

    # --- reading the Zoho side ----------------------------------------------------------

    def _read_account(self, account_id: str, change: ContactChange) -> dict[str, Any]:
        extra = ["Modified_Time"] if self.deps.both_way is not None else []  # Both Way's newest_wins
        fields = change.field_map.account_fields() + extra
        return dict(self.deps.zoho.get_record("Accounts", account_id, fields, change.deadline) or {})

    def _primary(
        self,
        account_id: str,
        account: dict[str, Any],
        snapshot: LinkSnapshot | None,
        change: ContactChange,
    ) -> dict[str, Any] | None:
        field_map = change.field_map
        contacts = self.deps.zoho.get_related_contacts(
            account_id, field_map.contact_fields(), change.deadline
        )
        if snapshot is not None and snapshot.primary_contact_id:
            known = [c for c in contacts if str(c.get("id")) == snapshot.primary_contact_id]
            if known:
                return dict(known[0])
        try:
            primary, _ = choose_primary(
                own_contacts({"id": account_id, **account}, contacts, field_map), field_map
            )
        except RejectedError:  # several contacts and no single primary: person fields wait for one
            return None
        return dict(primary) if primary is not None else None

    def _own_identity(self, change: ContactChange, account_id: str) -> None:
        """A linked contact without a Contact Code (linked by Xero ID, or after a crash) gets the
        Account id as its code, and the claim records the Account; a code someone set stays."""
        if str(change.contact.get("ContactNumber") or "").strip():
            return
        self.deps.snapshots.record_account(change.tenant_id, change.contact_id, account_id)
        self.writes.number_in_xero(change.contact_id, account_id, change.deadline)
