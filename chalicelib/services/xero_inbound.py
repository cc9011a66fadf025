"""Xero → Zoho CRM for a batch of changed contacts: read, ask services/sync/from_xero.py, write.

Used by the sync worker for Xero's webhook events (one message per contact), and by a
`xero_to_zoho` run's batches. Per batch: ONE `GET /Contacts?IDs=…` for all its contacts; per
contact, its Account found by id (ContactNumber, our links, a claim, else Zoho's Xero ID), then:

- linked → under the Account's lock (the same one a Zoho → Xero sync takes), the changed values
  onto the Account and its primary Contact, `"trigger": []`, and the pair's snapshot saved;
- unlinked → a claim on the ContactID (a conditional write), the Account and primary Contact
  created, the claim recorded, the contact's ContactNumber set to the new Account id in Xero.

A Zoho refusal is written where both sides see it: the Account's timeline and sync fields, and
a History note on the Xero contact.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RejectedError, RetriableError
from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import FlowField, fields_to_zoho, mapped_fields, zoho_side, zoho_writes
from chalicelib.mapping.validate import choose_primary, own_contacts
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.account_lock import ANOTHER_SYNC_RUNNING, Locks, account_lock
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import iso_now
from chalicelib.services.sync.from_xero import (
    InboundDecision,
    InboundVerdict,
    account_key,
    decide_linked,
    decide_unlinked,
    is_known_version,
    namesake_to_adopt,
    next_snapshot,
    shown_in_zoho,
)
from chalicelib.services.xero_archive import ARCHIVED_SUMMARY, ArchiveMirror, Lifecycle
from chalicelib.services.xero_merge import MERGED_SUMMARY
from chalicelib.store.errors import StaleStateError
from chalicelib.store.snapshots import LinkSnapshot
from chalicelib.zoho import coql

logger = logging.getLogger(__name__)
CLAIM_STALE_SECONDS = 300.0  # a claim whose owner crashed before creating anything frees up


@dataclass
class InboundDependencies:
    zoho: Any  # ZohoClient
    xero: Any  # XeroClient
    states: Any  # AccountStateRepository
    snapshots: Any  # SnapshotRepository
    history: Any  # HistoryRepository
    locks: Locks
    field_map: Callable[[], FieldMap]
    contact_url: Callable[[str], str | None]
    creates_accounts: bool = True
    lock_seconds: float = 60.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    both_way: Any = None  # SYNC_MODE=both: services/both_way.BothWay merges a linked pair


@dataclass(frozen=True)
class InboundOutcome:
    contact_id: str
    verdict: InboundVerdict
    account_id: str | None = None
    message: str = ""


class ZohoRefused(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class XeroInbound:
    def __init__(self, deps: InboundDependencies) -> None:
        self.deps = deps
        self.archive = ArchiveMirror(deps, self.history, self._linked_account)  # archived / restored

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
        fields = fields_to_zoho(field_map)
        contact_id = str(contact["ContactID"]).lower()
        step, archived = self.archive.step(tenant_id, contact, deadline)
        if step in (Lifecycle.ARCHIVED, Lifecycle.MERGED):
            summary = ARCHIVED_SUMMARY if step is Lifecycle.ARCHIVED else MERGED_SUMMARY
            return InboundOutcome(contact_id, InboundVerdict.ARCHIVED, archived, summary)
        named = account_key(contact)
        if named is not None and is_known_version(contact, self.deps.snapshots.get(named), fields):
            return InboundOutcome(contact_id, InboundVerdict.ECHO, named)  # no Zoho call needed
        account_id = self._linked_account(tenant_id, contact, field_map, deadline)
        if account_id is not None:
            return self._linked(tenant_id, contact, account_id, field_map, fields, deadline)
        decision = decide_unlinked(contact, field_map, fields, creates_accounts=self.deps.creates_accounts)
        if decision.verdict is InboundVerdict.CREATE:
            adopt, reason = namesake_to_adopt(
                contact, self._namesakes(contact, field_map, deadline), field_map.writeback.xero_id
            )
            if adopt is not None:
                return self._linked(tenant_id, contact, adopt, field_map, fields, deadline)
            if reason:
                decision = InboundDecision(
                    InboundVerdict.SKIP, xero_values=decision.xero_values, reason=reason
                )
        if decision.verdict is InboundVerdict.SKIP:
            logger.info(
                "xero contact not created in zoho",
                extra={"contact_id": contact_id, "reason": decision.reason},
            )
            return InboundOutcome(contact_id, decision.verdict, message=decision.reason)
        return self._create(tenant_id, contact, decision, field_map, fields, deadline)

    # --- which Account ----------------------------------------------------------

    def _linked_account(
        self, tenant_id: str, contact: dict[str, Any], field_map: FieldMap, deadline: Deadline
    ) -> str | None:
        contact_id = str(contact["ContactID"]).lower()
        by_number = account_key(contact)
        if by_number and self._exists(by_number, field_map, deadline):
            return by_number
        linked = self.deps.states.find_account_by_xero_contact(tenant_id, contact_id)
        if linked:
            return str(linked)
        claim = self.deps.snapshots.get_claim(tenant_id, contact_id)
        if claim is not None and claim.account_id:
            return str(claim.account_id)
        # An Account created for it whose creation was never recorded (a crash), or linked by hand.
        xero_id = field_map.writeback.xero_id
        query = coql.select(["id"], "Accounts", f"{xero_id} = {coql.text(contact_id)}", "limit 2")
        rows, _ = self.deps.zoho.coql(query, deadline)
        return str(rows[0]["id"]) if rows else None

    def _namesakes(
        self, contact: dict[str, Any], field_map: FieldMap, deadline: Deadline
    ) -> list[dict[str, Any]]:
        """Zoho's Accounts named as the contact is (at most 2: one is adoptable, two are not)."""
        name = str(contact.get("Name") or "").strip()
        if not name:
            return []
        where = f"{field_map.account_name_field} = {coql.text(name)}"
        query = coql.select(["id", field_map.writeback.xero_id], "Accounts", where, "limit 2")
        rows, _ = self.deps.zoho.coql(query, deadline)
        return [dict(row) for row in rows]

    def _exists(self, account_id: str, field_map: FieldMap, deadline: Deadline) -> bool:
        return self.deps.zoho.get_record("Accounts", account_id, ["id"], deadline) is not None

    # --- linked: update ---------------------------------------------------------

    def _linked(
        self,
        tenant_id: str,
        contact: dict[str, Any],
        account_id: str,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> InboundOutcome:
        with account_lock(
            self.deps.locks,
            account_id,
            purpose="xero",
            deadline=deadline,
            lock_seconds=self.deps.lock_seconds,
            busy=RetriableError(ANOTHER_SYNC_RUNNING),
        ):
            return self._update(tenant_id, contact, account_id, field_map, fields, deadline)

    def _update(
        self,
        tenant_id: str,
        contact: dict[str, Any],
        account_id: str,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> InboundOutcome:
        contact_id = str(contact["ContactID"]).lower()
        account = self._read_account(account_id, field_map, deadline)
        snapshot = self.deps.snapshots.get(account_id)
        primary = self._primary(account_id, account, snapshot, field_map, deadline)
        decision = decide_linked(contact, account, primary, snapshot, fields)
        if decision.verdict is InboundVerdict.STALE:
            return InboundOutcome(contact_id, decision.verdict, account_id)
        now = self.deps.now()
        self._own_identity(tenant_id, contact, account_id, deadline)
        self._link_state(account_id, tenant_id, contact_id, contact, now)
        if self.deps.both_way is not None and snapshot is not None and snapshot.xero:
            return self._both_ways(
                account_id, account, primary, contact, snapshot, field_map, fields, deadline
            )
        shows_link = str(account.get(field_map.writeback.xero_id) or "").lower() == contact_id
        if decision.verdict is not InboundVerdict.UPDATE and shows_link:
            self._save_snapshot(snapshot, account_id, tenant_id, contact, fields, account, primary)
            return InboundOutcome(contact_id, decision.verdict, account_id)
        url = self.deps.contact_url(contact_id)
        try:
            primary_id = self._write_person(
                account_id, primary, decision, field_map, fields, contact, deadline
            )
            update = {**decision.account_fields, **shown_in_zoho(field_map, contact_id, url, now)}
            self._write("PUT", "Accounts", {"id": account_id, **update}, field_map, fields, contact, deadline)
        except ZohoRefused as refused:
            return self.report_refusal(tenant_id, contact_id, account_id, refused, field_map, deadline)
        merged_account = {**account, **decision.account_fields}
        merged_primary = {**(primary or {}), **decision.contact_fields}
        self._save_snapshot(
            snapshot, account_id, tenant_id, contact, fields, merged_account, merged_primary, primary_id
        )
        self.history(
            account_id, contact_id, SyncStatus.SYNCED, SyncAction.UPDATED, messages.FROM_XERO_UPDATED
        )
        return InboundOutcome(contact_id, InboundVerdict.UPDATE, account_id, messages.FROM_XERO_UPDATED)

    def _read_account(self, account_id: str, field_map: FieldMap, deadline: Deadline) -> dict[str, Any]:
        extra = ["Modified_Time"] if self.deps.both_way is not None else []  # Both Way's newest_wins
        fields = field_map.account_fields() + extra
        return dict(self.deps.zoho.get_record("Accounts", account_id, fields, deadline) or {})

    def _both_ways(
        self,
        account_id: str,
        account: dict[str, Any],
        primary: dict[str, Any] | None,
        contact: dict[str, Any],
        snapshot: LinkSnapshot,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> InboundOutcome:
        """SYNC_MODE=both: services/both_way.py merges the pair and writes each side what it lacks."""
        from chalicelib.services.both_way import Pair, summary

        contact_id = str(contact["ContactID"]).lower()
        tenant_id = snapshot.tenant_id or ""

        def write(module: str, record: dict[str, Any]) -> None:
            self._write("PUT", module, record, field_map, fields, contact, deadline)

        pair = Pair(account_id, account, primary, contact, snapshot, Trigger.XERO)
        try:
            result = self.deps.both_way.on_xero_change(
                pair, self.deps.contact_url(contact_id), write, deadline
            )
        except ZohoRefused as refused:
            return self.report_refusal(tenant_id, contact_id, account_id, refused, field_map, deadline)
        if not result.writes and not result.conflicts:
            return InboundOutcome(contact_id, InboundVerdict.ECHO, account_id)
        message = summary(result)
        self.history(account_id, contact_id, SyncStatus.SYNCED, SyncAction.UPDATED, message)
        return InboundOutcome(contact_id, InboundVerdict.UPDATE, account_id, message)

    def _primary(
        self,
        account_id: str,
        account: dict[str, Any],
        snapshot: LinkSnapshot | None,
        field_map: FieldMap,
        deadline: Deadline,
    ) -> dict[str, Any] | None:
        contacts = self.deps.zoho.get_related_contacts(account_id, field_map.contact_fields(), deadline)
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

    def _write_person(
        self,
        account_id: str,
        primary: dict[str, Any] | None,
        decision: InboundDecision,
        field_map: FieldMap,
        fields: list[FlowField],
        contact: dict[str, Any],
        deadline: Deadline,
    ) -> str | None:
        if not decision.contact_fields:
            return str(primary["id"]) if primary else None
        if primary is not None:
            record = {"id": str(primary["id"]), **decision.contact_fields}
            self._write("PUT", "Contacts", record, field_map, fields, contact, deadline)
            return str(primary["id"])
        record = {
            **decision.contact_fields,
            field_map.contact_account_field: {"id": account_id},
            field_map.primary_contact_field: True,
        }
        return self._write("POST", "Contacts", record, field_map, fields, contact, deadline)

    # --- unlinked: create -------------------------------------------------------

    def _create(
        self,
        tenant_id: str,
        contact: dict[str, Any],
        decision: InboundDecision,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> InboundOutcome:
        contact_id = str(contact["ContactID"]).lower()
        now = self.deps.now()
        claim = self.deps.snapshots.claim(
            tenant_id, contact_id, f"create-{uuid.uuid4()}", now.timestamp(), CLAIM_STALE_SECONDS
        )
        if claim is None:
            existing = self.deps.snapshots.get_claim(tenant_id, contact_id)
            if existing is not None and existing.account_id:
                return self._linked(tenant_id, contact, existing.account_id, field_map, fields, deadline)
            raise RetriableError("The Account for this Xero contact is being created; trying again shortly.")
        url = self.deps.contact_url(contact_id)
        account_record = {**decision.account_fields, **shown_in_zoho(field_map, contact_id, url, now)}
        try:
            account_id = self._write("POST", "Accounts", account_record, field_map, fields, contact, deadline)
        except ZohoRefused as refused:
            self.deps.snapshots.release_claim(claim)
            self._note_in_xero(contact_id, refused.message, deadline)
            logger.warning(
                "xero contact refused by zoho", extra={"contact_id": contact_id, "code": refused.code}
            )
            return InboundOutcome(contact_id, InboundVerdict.SKIP, message=refused.message)
        assert account_id is not None
        self.deps.snapshots.record_account(tenant_id, contact_id, account_id)
        return self._finish_create(tenant_id, contact, account_id, decision, field_map, fields, deadline)

    def _finish_create(
        self,
        tenant_id: str,
        contact: dict[str, Any],
        account_id: str,
        decision: InboundDecision,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> InboundOutcome:
        contact_id = str(contact["ContactID"]).lower()
        now = self.deps.now()
        primary_id = None
        message = messages.FROM_XERO_CREATED
        try:
            primary_id = self._write_person(account_id, None, decision, field_map, fields, contact, deadline)
        except ZohoRefused as refused:  # the Account stands; the person waits for a fix in Xero
            self.report_refusal(
                tenant_id,
                contact_id,
                account_id,
                refused,
                field_map,
                deadline,
            )
            message = refused.message
        # Xero's answer is the contact as it is now, maybe with edits this delivery never read:
        # the snapshot keeps the version applied, so the event for those edits still writes them.
        self._number_in_xero(contact_id, account_id, deadline)
        account = {**decision.account_fields, "id": account_id}
        self._save_snapshot(
            None, account_id, tenant_id, contact, fields, account, decision.contact_fields, primary_id
        )
        self._link_state(account_id, tenant_id, contact_id, contact, now)
        self.history(account_id, contact_id, SyncStatus.SYNCED, SyncAction.CREATED, message)
        return InboundOutcome(contact_id, InboundVerdict.CREATE, account_id, message)

    def _own_identity(
        self, tenant_id: str, contact: dict[str, Any], account_id: str, deadline: Deadline
    ) -> None:
        """A linked contact without a Contact Code (linked by Xero ID, or after a crash) gets the
        Account id as its code, and the claim records the Account; a code someone set stays."""
        if str(contact.get("ContactNumber") or "").strip():
            return
        contact_id = str(contact["ContactID"]).lower()
        self.deps.snapshots.record_account(tenant_id, contact_id, account_id)
        self._number_in_xero(contact_id, account_id, deadline)

    def _number_in_xero(self, contact_id: str, account_id: str, deadline: Deadline) -> dict[str, Any] | None:
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

    # --- writing and recording ----------------------------------------------------

    def _write(
        self,
        method: str,
        module: str,
        record: dict[str, Any],
        field_map: FieldMap,
        fields: list[FlowField],
        contact: dict[str, Any],
        deadline: Deadline,
    ) -> str | None:
        """One record written with `"trigger": []`; its id, or ZohoRefused saying what to fix."""
        write = self.deps.zoho.create_records if method == "POST" else self.deps.zoho.update_records
        [answer] = write(module, [record], deadline)
        if str(answer.get("code")) == "SUCCESS":
            return str((answer.get("details") or {}).get("id") or record.get("id"))
        raise self.refusal(answer, fields, contact)

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
        self.history(
            account_id, contact_id, SyncStatus.REJECTED, SyncAction.NONE, refused.message, refused.code
        )
        self._note_in_xero(contact_id, refused.message, deadline)
        return InboundOutcome(contact_id, InboundVerdict.SKIP, account_id, refused.message)

    def _note_in_xero(self, contact_id: str, message: str, deadline: Deadline) -> None:
        try:
            if not self.deps.xero.add_history_note(contact_id, message, deadline):
                logger.warning("xero refused the history note", extra={"contact_id": contact_id})
        except Exception:  # a note that cannot be written never hides the refusal elsewhere
            logger.warning("could not add a history note in xero", extra={"contact_id": contact_id})

    def moved_snapshot(
        self,
        snapshot: LinkSnapshot,
        tenant_id: str,
        contact: dict[str, Any],
        fields: list[FlowField],
        decision: InboundDecision,
    ) -> LinkSnapshot:
        """After a run's write: the snapshot moved to what both sides now hold."""
        account, primary = zoho_writes(dict(snapshot.zoho), fields)
        account.update(decision.account_fields)
        primary.update(decision.contact_fields)
        return next_snapshot(
            snapshot,
            snapshot.account_id,
            tenant_id,
            contact,
            fields,
            zoho_values=zoho_side(account, primary, fields),
            primary_contact_id=snapshot.primary_contact_id,
            at=self.deps.now(),
        )

    def _save_snapshot(
        self,
        previous: LinkSnapshot | None,
        account_id: str,
        tenant_id: str,
        contact: dict[str, Any],
        fields: list[FlowField],
        account: dict[str, Any],
        primary: dict[str, Any] | None,
        primary_id: str | None = None,
    ) -> None:
        snapshot = next_snapshot(
            previous,
            account_id,
            tenant_id,
            contact,
            fields,
            zoho_values=zoho_side(account, primary, fields),
            primary_contact_id=primary_id or (str(primary["id"]) if primary and primary.get("id") else None),
            at=self.deps.now(),
        )
        try:
            self.deps.snapshots.save(snapshot)
        except StaleStateError:  # saved meanwhile (we hold the lock, so rare): keep the newer one
            logger.info("snapshot saved meanwhile", extra={"account_id": account_id})

    def _link_state(
        self, account_id: str, tenant_id: str, contact_id: str, contact: dict[str, Any], now: datetime
    ) -> None:
        """Our link record (the index a Zoho → Xero sync and the next event find the pair by)."""
        state = self.deps.states.get(account_id) or AccountState(account_id=account_id)
        if state.xero_contact_id == contact_id and state.tenant_id == tenant_id:
            return
        try:
            self.deps.states.save(
                replace(
                    state,
                    xero_contact_id=contact_id,
                    tenant_id=tenant_id,
                    account_name=contact.get("Name") or state.account_name,
                    last_attempt_at=iso_now(now),
                )
            )
        except StaleStateError:
            logger.info("account state saved meanwhile", extra={"account_id": account_id})

    def history(
        self,
        account_id: str,
        contact_id: str,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        detail: str | None = None,
        *,
        run_id: str | None = None,
    ) -> None:
        self.deps.history.add(
            self.history_entry(account_id, contact_id, status, action, message, detail, run_id=run_id)
        )

    def history_entry(
        self,
        account_id: str,
        contact_id: str,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        detail: str | None = None,
        *,
        run_id: str | None = None,
    ) -> HistoryEntry:
        """A timeline entry of a change from Xero (trigger "Change in Xero")."""
        return HistoryEntry(
            account_id=account_id,
            at=iso_now(self.deps.now()),
            trigger=Trigger.XERO,
            status=status,
            action=action,
            message=message,
            xero_contact_id=contact_id,
            detail=detail,
            run_id=run_id,
        )


@dataclass(frozen=True)
class Push:
    """One pair a Zoho → Xero write just synced."""

    account_id: str
    tenant_id: str
    xero_contact: dict[str, Any]  # Xero's answer
    sent: dict[str, Any]  # what we sent, from Zoho
    primary_contact_id: str | None


def record_pushes(snapshots: Any, pushes: list[Push], field_map: FieldMap, now: datetime) -> None:
    """`record_push` for a bulk batch: one batched read and one batched write for all of it."""
    from chalicelib.mapping.directions import xero_side

    fields = fields_to_zoho(field_map)
    previous = snapshots.get_many([p.account_id for p in pushes])
    snapshots.put_many(
        [
            next_snapshot(
                previous.get(p.account_id),
                p.account_id,
                p.tenant_id,
                p.xero_contact,
                fields,
                zoho_values=xero_side(p.sent, mapped_fields(field_map)),  # to_xero ones too: clears
                primary_contact_id=p.primary_contact_id,
                at=now,
            )
            for p in pushes
        ]
    )


def record_push(
    snapshots: Any,
    account_id: str,
    tenant_id: str,
    xero_contact: dict[str, Any],
    sent: dict[str, Any],
    primary_contact_id: str | None,
    field_map: FieldMap,
    now: datetime,
) -> None:
    """After a Zoho → Xero write: the pair's last synced values (Xero's answer, and what we sent
    from Zoho), so the webhook event Xero sends for our own write makes no Zoho write."""
    from chalicelib.mapping.directions import xero_side

    fields = fields_to_zoho(field_map)
    previous = snapshots.get(account_id)
    snapshot = next_snapshot(
        previous,
        account_id,
        tenant_id,
        xero_contact,
        fields,
        zoho_values=xero_side(sent, mapped_fields(field_map)),  # to_xero ones too: clears
        primary_contact_id=primary_contact_id,
        at=now,
    )
    try:
        snapshots.save(snapshot)
    except StaleStateError:
        logger.info("snapshot saved meanwhile", extra={"account_id": account_id})
