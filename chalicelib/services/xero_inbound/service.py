"""XeroInbound: which Account a changed Xero contact is, and whether to update, create or skip."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import fields_to_zoho
from chalicelib.services.sync.from_xero import (
    InboundDecision,
    InboundVerdict,
    account_key,
    decide_unlinked,
    is_known_version,
    namesake_to_adopt,
)
from chalicelib.services.xero_archive import ARCHIVED_SUMMARY, ArchiveMirror, Lifecycle
from chalicelib.services.xero_inbound.create import AccountCreation
from chalicelib.services.xero_inbound.model import ContactChange, InboundDependencies, InboundOutcome
from chalicelib.services.xero_inbound.records import InboundRecords
from chalicelib.services.xero_inbound.update import LinkedUpdate
from chalicelib.services.xero_inbound.writes import InboundWrites
from chalicelib.services.xero_merge import MERGED_SUMMARY
from chalicelib.zoho import queries

logger = logging.getLogger(__name__)


class XeroInbound:
    def __init__(self, deps: InboundDependencies) -> None:
        self.deps = deps
        self.records = InboundRecords(deps)
        self.writes = InboundWrites(deps, self.records)
        self.linked = LinkedUpdate(deps, self.records, self.writes)
        self.creation = AccountCreation(deps, self.records, self.writes, self.linked)
        self.archive = ArchiveMirror(deps, self.records.history, self.find_account)  # archived / restored
        # What a xero_to_zoho run's batch shares with a webhook event (services/xero_runs.py).
        self.history_entry = self.records.history_entry
        self.moved_snapshot = self.records.moved_snapshot
        self.refusal = self.writes.refusal
        self.report_refusal = self.writes.report_refusal

    def fetch(self, tenant_id: str, contact_ids: list[str], deadline: Deadline) -> list[dict[str, Any]]:
        """The contacts as Xero has them now, in ONE call ([] for an organisation we do not sync)."""
        if tenant_id.lower() != self.deps.xero.tenant_id(deadline).lower():
            logger.info("xero events of another organisation ignored", extra={"tenant_id": tenant_id})
            return []
        return list(self.deps.xero.get_contacts_by_ids(list(dict.fromkeys(contact_ids)), deadline))

    def sync_contacts(
        self, tenant_id: str, contact_ids: list[str], deadline: Deadline
    ) -> list[InboundOutcome]:
        """Bring these Xero contacts into Zoho. Raises RetriableError when it should be tried
        again: every step can run again without doing anything twice."""
        contacts = self.fetch(tenant_id, contact_ids, deadline)
        return [self.sync_contact(tenant_id, contact, deadline) for contact in contacts]

    def sync_contact(self, tenant_id: str, contact: dict[str, Any], deadline: Deadline) -> InboundOutcome:
        field_map = self.deps.field_map()
        change = ContactChange(tenant_id, contact, field_map, fields_to_zoho(field_map), deadline)
        step, archived = self.archive.step(tenant_id, contact, deadline)
        if step in (Lifecycle.ARCHIVED, Lifecycle.MERGED):
            summary = ARCHIVED_SUMMARY if step is Lifecycle.ARCHIVED else MERGED_SUMMARY
            return InboundOutcome(change.contact_id, InboundVerdict.ARCHIVED, archived, summary)
        named = account_key(contact)
        if named is not None and is_known_version(contact, self.deps.snapshots.get(named), change.fields):
            return InboundOutcome(change.contact_id, InboundVerdict.ECHO, named)  # no Zoho call needed
        account_id = self.find_account(tenant_id, contact, field_map, deadline)
        if account_id is not None:
            return self.linked.sync(change, account_id)
        return self._unlinked(change)

    def _unlinked(self, change: ContactChange) -> InboundOutcome:
        """No Account holds the contact: adopt a namesake, create an Account, or say why not."""
        field_map = change.field_map
        decision = decide_unlinked(
            change.contact, field_map, change.fields, creates_accounts=self.deps.creates_accounts
        )
        if decision.verdict is InboundVerdict.CREATE:
            namesakes = self._namesakes(change.contact, field_map, change.deadline)
            adopt, reason = namesake_to_adopt(change.contact, namesakes, field_map.writeback.xero_id)
            if adopt is not None:
                return self.linked.sync(change, adopt)
            if reason:
                decision = InboundDecision(
                    InboundVerdict.SKIP, xero_values=decision.xero_values, reason=reason
                )
        if decision.verdict is InboundVerdict.SKIP:
            logger.info(
                "xero contact not created in zoho",
                extra={"contact_id": change.contact_id, "reason": decision.reason},
            )
            return InboundOutcome(change.contact_id, decision.verdict, message=decision.reason)
        return self.creation.create(change, decision)

    # --- which Account ----------------------------------------------------------

    def find_account(
        self, tenant_id: str, contact: dict[str, Any], field_map: FieldMap, deadline: Deadline
    ) -> str | None:
        """The contact's Account: its Contact Code, our link, a claim, else Zoho's Xero ID field."""
        contact_id = str(contact["ContactID"]).lower()
        by_number = account_key(contact)
        if by_number and self._exists(by_number, deadline):
            return by_number
        linked = self.deps.states.find_account_by_xero_contact(tenant_id, contact_id)
        if linked:
            return str(linked)
        claim = self.deps.snapshots.get_claim(tenant_id, contact_id)
        if claim is not None and claim.account_id:
            return str(claim.account_id)
        # An Account created for it whose creation was never recorded (a crash), or linked by hand.
        query = queries.accounts_linked_to(field_map.writeback.xero_id, contact_id)
        rows, _ = self.deps.zoho.coql(query, deadline)
        return str(rows[0]["id"]) if rows else None

    def _namesakes(
        self, contact: dict[str, Any], field_map: FieldMap, deadline: Deadline
    ) -> list[dict[str, Any]]:
        """Zoho's Accounts named as the contact is (at most 2: one is adoptable, two are not)."""
        name = str(contact.get("Name") or "").strip()
        if not name:
            return []
        query = queries.accounts_named(field_map.account_name_field, field_map.writeback.xero_id, name)
        rows, _ = self.deps.zoho.coql(query, deadline)
        return [dict(row) for row in rows]

    def _exists(self, account_id: str, deadline: Deadline) -> bool:
        return self.deps.zoho.get_record("Accounts", account_id, ["id"], deadline) is not None
