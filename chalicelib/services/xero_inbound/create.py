"""A contact no Account holds: a claim on its ContactID (a conditional write, so two deliveries
create one Account), the Account and its primary Contact created, the claim recorded, and the
contact's Contact Code set to the new Account id in Xero."""

from __future__ import annotations

import logging
import uuid

from chalicelib.errors import RetriableError
from chalicelib.models.sync import SyncAction, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.services.sync.from_xero import InboundDecision, InboundVerdict, shown_in_zoho
from chalicelib.services.xero_inbound.model import (
    ContactChange,
    InboundDependencies,
    InboundOutcome,
    ZohoRefused,
)
from chalicelib.services.xero_inbound.records import InboundRecords
from chalicelib.services.xero_inbound.update import LinkedUpdate
from chalicelib.services.xero_inbound.writes import InboundWrites

logger = logging.getLogger(__name__)
CLAIM_STALE_SECONDS = 300.0  # a claim whose owner crashed before creating anything frees up


class AccountCreation:
    def __init__(
        self,
        deps: InboundDependencies,
        records: InboundRecords,
        writes: InboundWrites,
        linked: LinkedUpdate,
    ) -> None:
        self.deps = deps
        self.records = records
        self.writes = writes
        self.linked = linked  # a claim someone else recorded: their Account, updated

    def create(self, change: ContactChange, decision: InboundDecision) -> InboundOutcome:
        contact_id, tenant_id = change.contact_id, change.tenant_id
        now = self.deps.now()
        claim = self.deps.snapshots.claim(
            tenant_id, contact_id, f"create-{uuid.uuid4()}", now.timestamp(), CLAIM_STALE_SECONDS
        )
        if claim is None:
            existing = self.deps.snapshots.get_claim(tenant_id, contact_id)
            if existing is not None and existing.account_id:
                return self.linked.sync(change, existing.account_id)
            raise RetriableError("The Account for this Xero contact is being created; trying again shortly.")
        url = self.deps.contact_url(contact_id)
        account_record = {**decision.account_fields, **shown_in_zoho(change.field_map, contact_id, url, now)}
        try:
            account_id = self.writes.zoho("POST", "Accounts", account_record, change)
        except ZohoRefused as refused:
            self.deps.snapshots.release_claim(claim)
            self.writes.note_in_xero(contact_id, refused.message, change.deadline)
            logger.warning(
                "xero contact refused by zoho", extra={"contact_id": contact_id, "code": refused.code}
            )
            return InboundOutcome(contact_id, InboundVerdict.SKIP, message=refused.message)
        assert account_id is not None
        self.deps.snapshots.record_account(tenant_id, contact_id, account_id)
        return self._finish(change, account_id, decision)

    def _finish(self, change: ContactChange, account_id: str, decision: InboundDecision) -> InboundOutcome:
        """The Account stands: its person, the Contact Code in Xero, the snapshot, our link."""
        contact_id, tenant_id = change.contact_id, change.tenant_id
        now = self.deps.now()
        primary_id = None
        message = messages.FROM_XERO_CREATED
        try:
            primary_id = self.writes.person(account_id, None, decision, change)
        except ZohoRefused as refused:  # the Account stands; the person waits for a fix in Xero
            self.writes.report_refusal(
                tenant_id, contact_id, account_id, refused, change.field_map, change.deadline
            )
            message = refused.message
        # Xero's answer is the contact as it is now, maybe with edits this delivery never read:
        # the snapshot keeps the version applied, so the event for those edits still writes them.
        self.writes.number_in_xero(contact_id, account_id, change.deadline)
        account = {**decision.account_fields, "id": account_id}
        self.records.save_snapshot(
            None,
            account_id,
            tenant_id,
            change.contact,
            change.fields,
            account,
            decision.contact_fields,
            primary_id,
        )
        self.records.link_state(account_id, tenant_id, contact_id, change.contact, now)
        self.records.history(account_id, contact_id, SyncStatus.SYNCED, SyncAction.CREATED, message)
        return InboundOutcome(contact_id, InboundVerdict.CREATE, account_id, message)
