"""A person settles a held conflict: "keep Zoho's" or "keep Xero's", applied at once.

Under the Account's lock (the one every sync of it takes): both sides are read again, the kept
side's value *now* is written to the other side (Zoho with `"trigger": []`; Xero with the
smallest update, a phone or address sent whole), the pair's snapshot records it as synced, the
held conflict is dropped, the timeline says who chose what, and once the Account holds no more
conflicts it shows "Synced" again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RejectedError, RetriableError
from chalicelib.mapping import FieldMap
from chalicelib.mapping.clearing import xero_update
from chalicelib.mapping.directions import FlowField, fields_to_zoho, xero_side, zoho_side, zoho_writes
from chalicelib.models.sync import HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.account_lock import Locks, account_lock
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import iso_now, zoho_update
from chalicelib.services.sync.merge import Resolution
from chalicelib.store.conflicts import HeldConflict
from chalicelib.store.snapshots import LinkSnapshot

if TYPE_CHECKING:
    from chalicelib.store.conflicts import ConflictRepository
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.xero.client import XeroClient
    from chalicelib.zoho.client import ZohoClient


@dataclass
class ResolveDependencies:
    zoho: ZohoClient
    xero: XeroClient
    snapshots: SnapshotRepository
    conflicts: ConflictRepository
    history: HistoryRepository
    locks: Locks
    field_map: Callable[[], FieldMap]
    contact_url: Callable[[str], str | None]
    lock_seconds: float = 60.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


class ConflictResolver:
    def __init__(self, deps: ResolveDependencies) -> None:
        self.deps = deps

    def held(self) -> list[HeldConflict]:
        return list(self.deps.conflicts.all())

    def resolve(self, account_id: str, key: str, keep: Resolution, deadline: Deadline) -> str:
        """Apply the choice; returns what happened, in words."""
        with account_lock(
            self.deps.locks,
            account_id,
            purpose="resolve",
            deadline=deadline,
            lock_seconds=self.deps.lock_seconds,
            busy=RetriableError("A sync of this Account is running; choose again in a moment."),
        ):
            return self._resolve(account_id, key, keep, deadline)

    def _resolve(self, account_id: str, key: str, keep: Resolution, deadline: Deadline) -> str:
        held = self.deps.conflicts.get(account_id, key)
        snapshot = self.deps.snapshots.get(account_id)
        if held is None or snapshot is None or not snapshot.contact_id:
            return "That conflict was settled already."
        field_map = self.deps.field_map()
        fields = fields_to_zoho(field_map)
        contact_id = snapshot.contact_id
        account, primary, contact = self._read(account_id, contact_id, snapshot, field_map, deadline)
        value = (
            zoho_side(account, primary, fields)[key]
            if keep is Resolution.ZOHO
            else xero_side(contact, fields)[key]
        )
        if keep is Resolution.ZOHO:
            self._to_xero(contact, {key: value}, fields, deadline)
        else:
            self._to_zoho(account_id, primary, {key: value}, fields, deadline)
        self.deps.snapshots.save(
            replace(snapshot, zoho={**snapshot.zoho, key: value}, xero={**snapshot.xero, key: value})
        )
        self.deps.conflicts.delete(account_id, key)
        side = "Zoho CRM's" if keep is Resolution.ZOHO else "Xero's"
        message = f"{held.label}: {side} value {value!r} kept by a person, now on both sides."
        self.deps.history.add(
            HistoryEntry(
                account_id=account_id,
                at=iso_now(self.deps.now()),
                trigger=Trigger.PORTAL,
                status=SyncStatus.SYNCED,
                action=SyncAction.UPDATED,
                message=message,
                xero_contact_id=contact_id,
            )
        )
        if not self.deps.conflicts.for_account(account_id):
            self._show_synced(account_id, contact_id, field_map, deadline)
        return message

    def _read(
        self,
        account_id: str,
        contact_id: str,
        snapshot: LinkSnapshot,
        field_map: FieldMap,
        deadline: Deadline,
    ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
        account = self.deps.zoho.get_record("Accounts", account_id, field_map.account_fields(), deadline)
        if account is None:
            raise RejectedError(
                f"Zoho CRM has no Account {account_id} any more: restore it from the Recycle Bin, then choose again."
            )
        primary = None
        if snapshot.primary_contact_id:
            primary = self.deps.zoho.get_record(
                "Contacts", snapshot.primary_contact_id, field_map.contact_fields(), deadline
            )
        found = list(self.deps.xero.get_contacts_by_ids([contact_id], deadline))
        if not found:
            raise RejectedError(
                "The Xero contact of this Account is gone: open the Account, click Sync now, then choose again."
            )
        return dict(account), dict(primary) if primary else None, dict(found[0])

    def _to_xero(
        self, contact: dict[str, Any], values: dict[str, str], fields: list[FlowField], deadline: Deadline
    ) -> None:
        body = xero_update(contact, values, fields)
        key = f"resolve-{contact.get('ContactID')}-{uuid.uuid4()}"
        [saved] = self.deps.xero.save_contacts([body], idempotency_key=key, deadline=deadline)
        if not saved.ok:
            raise messages.rejection_from_xero(saved.errors, contact.get("Name"))

    def _to_zoho(
        self,
        account_id: str,
        primary: dict[str, Any] | None,
        values: dict[str, str],
        fields: list[FlowField],
        deadline: Deadline,
    ) -> None:
        account_fields, contact_fields = zoho_writes(values, fields)
        writes = [("Accounts", {"id": account_id, **account_fields})] if account_fields else []
        if contact_fields and primary is not None:
            writes.append(("Contacts", {"id": str(primary["id"]), **contact_fields}))
        for module, record in writes:
            [answer] = self.deps.zoho.update_records(module, [record], deadline)
            if str(answer.get("code")) != "SUCCESS":
                raise RejectedError(
                    f"Zoho CRM refused Xero's value: {answer.get('message')}. "
                    "Correct it in Xero, or keep Zoho CRM's value instead."
                )

    def _show_synced(self, account_id: str, contact_id: str, field_map: FieldMap, deadline: Deadline) -> None:
        url = self.deps.contact_url(contact_id)
        shown = zoho_update(field_map, SyncStatus.SYNCED, contact_id, url, iso_now(self.deps.now()), None)
        self.deps.zoho.update_records("Accounts", [{"id": account_id, **shown}], deadline)
