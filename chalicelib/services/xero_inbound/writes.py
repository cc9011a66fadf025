"""Every write of Xero → Zoho CRM: one Zoho record with `"trigger": []`, a Zoho refusal shown
on both sides, and the Contact Code set in Xero."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import FlowField
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

logger = logging.getLogger(__name__)


class InboundWrites:
    def __init__(self, deps: InboundDependencies, records: InboundRecords) -> None:
        self.deps = deps
        self.records = records

    # --- Zoho ---------------------------------------------------------------------------

    def zoho(self, method: str, module: str, record: dict[str, Any], change: ContactChange) -> str | None:
        """One record written with `"trigger": []`; its id, or ZohoRefused saying what to fix."""
        write = self.deps.zoho.create_records if method == "POST" else self.deps.zoho.update_records
        [answer] = write(module, [record], change.deadline)
        if str(answer.get("code")) == "SUCCESS":
            return str((answer.get("details") or {}).get("id") or record.get("id"))
        raise self.refusal(answer, change.fields, change.contact)

    def person(
        self,
        account_id: str,
        primary: dict[str, Any] | None,
        decision: InboundDecision,
        change: ContactChange,
    ) -> str | None:
        """The Account's primary Contact updated (or created) from the contact; its id."""
        if not decision.contact_fields:
            return str(primary["id"]) if primary else None
        if primary is not None:
            record = {"id": str(primary["id"]), **decision.contact_fields}
            self.zoho("PUT", "Contacts", record, change)
            return str(primary["id"])
        field_map = change.field_map
        record = {
            **decision.contact_fields,
            field_map.contact_account_field: {"id": account_id},
            field_map.primary_contact_field: True,
        }
        return self.zoho("POST", "Contacts", record, change)

    # --- a refusal ----------------------------------------------------------------------

    def refusal(
        self, answer: dict[str, Any], fields: list[FlowField], contact: dict[str, Any]
    ) -> ZohoRefused:
        """Zoho's answer for one record as words saying what to fix in Xero (RetriableError
        raised for a fault on Zoho's side, which a later attempt fixes)."""
        code = str(answer.get("code") or "")
        api_name = (answer.get("details") or {}).get("api_name")
        flow = next((f for f in fields if f.source.field == api_name), None)
        label = flow.label if flow else (str(api_name).replace("_", " ") if api_name else None)
        name = str(contact.get("Name") or "")
        if code in ("", "INTERNAL_ERROR"):
            raise RetriableError("Zoho CRM could not save the change; trying again shortly.", detail=code)
        return ZohoRefused(messages.zoho_refusal_message(code, label, flow.key if flow else None, name), code)

    def report_refusal(
        self,
        tenant_id: str,
        contact_id: str,
        account_id: str,
        refused: ZohoRefused,
        field_map: FieldMap,
        deadline: Deadline,
    ) -> InboundOutcome:
        """Shown on the Account (its sync fields and timeline) and on the Xero contact (History)."""
        url = self.deps.contact_url(contact_id)
        shown = shown_in_zoho(field_map, contact_id, url, self.deps.now(), refused.message)
        shown[field_map.writeback.status] = SyncStatus.REJECTED.value
        try:
            self.deps.zoho.update_records("Accounts", [{"id": account_id, **shown}], deadline)
        except Exception:  # the timeline and Xero's note still say it
            logger.warning("could not show the refusal on the account", extra={"account_id": account_id})
        self.records.history(
            account_id, contact_id, SyncStatus.REJECTED, SyncAction.NONE, refused.message, refused.code
        )
        self.note_in_xero(contact_id, refused.message, deadline)
        return InboundOutcome(contact_id, InboundVerdict.SKIP, account_id, refused.message)

    # --- Xero ---------------------------------------------------------------------------

    def note_in_xero(self, contact_id: str, message: str, deadline: Deadline) -> None:
        try:
            if not self.deps.xero.add_history_note(contact_id, message, deadline):
                logger.warning("xero refused the history note", extra={"contact_id": contact_id})
        except Exception:  # a note that cannot be written never hides the refusal elsewhere
            logger.warning("could not add a history note in xero", extra={"contact_id": contact_id})

    def number_in_xero(self, contact_id: str, account_id: str, deadline: Deadline) -> dict[str, Any] | None:
        """Set the contact's ContactNumber (Contact Code) to the Account id: identity from now on."""
        [result] = self.deps.xero.save_contacts(
            [{"ContactID": contact_id, "ContactNumber": account_id}],
            idempotency_key=f"xero-number-{contact_id}-{account_id}",
            deadline=deadline,
        )
        if not result.ok:
            logger.warning(
                "contact code not set in xero", extra={"contact_id": contact_id, "reason": result.errors}
            )
            return None
        return dict(result.contact)
