"""Both Way (SYNC_MODE=both): a linked pair's click, workflow sync or Xero event merges both sides.

The decisions are services/sync/merge.py's (pure); this module reads what they need, writes each
side only what it lacks, and records what happened:

- Zoho gets its fields with `"trigger": []` (no workflow fires for our own write);
- Xero gets the smallest update (mapping/clearing.xero_update), a phone or address sent whole;
- every conflict, however settled, is an entry in the Account's timeline with both values;
- a held conflict (CONFLICT_POLICY=hold) is stored (store/conflicts.py) for the portal's
  Conflicts page, and the Account shows `Xero_Sync_Status` "Conflict" with the fields' names;
- the pair's snapshot moves to what both sides hold now, held fields keeping their base.

A click goes through AccountSyncer (services/sync_account/), which asks `pull` first and then
pushes as always; a Xero event goes through XeroInbound, which hands the pair to `on_xero_change`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap
from chalicelib.mapping.clearing import xero_update
from chalicelib.mapping.directions import FlowField, fields_to_zoho, xero_side, zoho_side, zoho_writes
from chalicelib.models.sync import HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import iso_now, zoho_update
from chalicelib.services.sync.from_xero import updated_at
from chalicelib.services.sync.merge import (
    Base,
    Conflict,
    ConflictPolicy,
    MergeResult,
    Resolution,
    Sides,
    merge,
)
from chalicelib.store.conflicts import HeldConflict
from chalicelib.store.errors import StaleStateError
from chalicelib.store.snapshots import LinkSnapshot

if TYPE_CHECKING:
    from chalicelib.store.conflicts import ConflictRepository
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.xero.client import XeroClient
    from chalicelib.zoho.client import ZohoClient

logger = logging.getLogger(__name__)
ZohoWrite = Callable[[str, dict[str, Any]], None]  # (module, record) → written, or raises


@dataclass
class BothWayDependencies:
    zoho: ZohoClient
    xero: XeroClient
    snapshots: SnapshotRepository
    conflicts: ConflictRepository
    history: HistoryRepository
    field_map: Callable[[], FieldMap]
    policy: Callable[[], str]  # CONFLICT_POLICY, read at call time
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class Pair:
    """One linked pair as both sides hold it now."""

    account_id: str
    account: Mapping[str, Any]  # the Account (with Modified_Time when read for Both Way)
    primary: Mapping[str, Any] | None  # its primary Contact
    contact: Mapping[str, Any]  # the Xero contact
    snapshot: LinkSnapshot
    trigger: Trigger
    run_id: str | None = None


@dataclass(frozen=True)
class Merged:
    result: MergeResult
    account: dict[str, Any]  # the Account once Zoho's writes landed
    primary: dict[str, Any] | None
    xero_keeps: dict[str, str]  # held fields: the value Xero keeps (a push must not overwrite it)
    contacts: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # the Account's, updated


class BothWay:
    def __init__(self, deps: BothWayDependencies) -> None:
        self.deps = deps

    def linked_snapshot(self, account_id: str, contact_id: str | None) -> LinkSnapshot | None:
        """The pair's base, when there is one to merge against (else the sync goes one way)."""
        snapshot = self.deps.snapshots.get(account_id)
        if snapshot is None or not snapshot.xero or not contact_id:
            return None
        return snapshot if (snapshot.contact_id or "") == contact_id.lower() else None

    def read_contact(self, contact_id: str, deadline: Deadline) -> dict[str, Any] | None:
        found = list(self.deps.xero.get_contacts_by_ids([contact_id], deadline))
        return dict(found[0]) if found else None

    # --- a click or a workflow sync: Xero's side comes into Zoho first ----------------

    def for_click(
        self,
        account_id: str,
        contact_id: str | None,
        account: Mapping[str, Any],
        contacts: list[dict[str, Any]],
        primary_id: str | None,
        trigger: Trigger,
        deadline: Deadline,
        run_id: str | None = None,
    ) -> Merged | None:
        """`pull` for a linked pair with a base and an active contact; None: sync one way."""
        snapshot = self.linked_snapshot(account_id, contact_id)
        contact = self.read_contact(contact_id, deadline) if snapshot is not None and contact_id else None
        if snapshot is None or contact is None or str(contact.get("ContactStatus") or "ACTIVE") != "ACTIVE":
            return None
        primary = next((c for c in contacts if primary_id and str(c.get("id")) == primary_id), None)
        merged = self.pull(Pair(account_id, account, primary, contact, snapshot, trigger, run_id), deadline)
        updated = [merged.primary if merged.primary and c is primary else c for c in contacts]
        return replace(merged, contacts=updated)

    def pull(self, pair: Pair, deadline: Deadline) -> Merged:
        """Merge; write Zoho what it lacks; record the conflicts. The caller pushes to Xero."""
        fields = fields_to_zoho(self.deps.field_map())
        result = self.merge_pair(pair, fields)
        account_fields, contact_fields = zoho_writes(result.to_zoho, fields)
        self._write_zoho(pair, account_fields, contact_fields, deadline)
        self.record_conflicts(pair, result, fields)
        self.save_snapshot(pair.snapshot, result, pair.contact, unsent=result.to_xero.keys())
        return Merged(
            result,
            {**pair.account, **account_fields},
            {**pair.primary, **contact_fields} if pair.primary is not None else None,
            {c.key: c.xero for c in result.held},
        )

    def _write_zoho(
        self, pair: Pair, account_fields: dict[str, Any], contact_fields: dict[str, Any], deadline: Deadline
    ) -> None:
        if account_fields:
            self._zoho_put("Accounts", {"id": pair.account_id, **account_fields}, deadline)
        if contact_fields and pair.primary is not None:
            self._zoho_put("Contacts", {"id": str(pair.primary["id"]), **contact_fields}, deadline)

    def _zoho_put(self, module: str, record: dict[str, Any], deadline: Deadline) -> None:
        [answer] = self.deps.zoho.update_records(module, [record], deadline)
        if str(answer.get("code")) != "SUCCESS":
            field = (answer.get("details") or {}).get("api_name") or "a field"
            raise RejectedError(
                f"Zoho CRM refused Xero's value for {str(field).replace('_', ' ')}: {answer.get('message')}. "
                "Correct it in Xero or on the Account, then sync again.",
                detail=str(answer.get("code")),
            )

    def keep_held(self, account_id: str, merged: Merged) -> None:
        """After a push: held fields keep their base, so the next sync finds the conflict again."""
        if not merged.result.held:
            return
        snapshot = self.deps.snapshots.get(account_id)
        if snapshot is None:
            return
        held = {c.key for c in merged.result.held}
        base = merged.result.next_base
        zoho = {**snapshot.zoho, **{k: base.zoho[k] for k in held}}
        xero = {**snapshot.xero, **{k: base.xero[k] for k in held}}
        self._save(replace(snapshot, zoho=zoho, xero=xero))

    # --- a Xero event --------------------------------------------------------------

    def on_xero_change(
        self, pair: Pair, contact_url: str | None, write: ZohoWrite, deadline: Deadline
    ) -> MergeResult:
        """Merge; write Zoho (through `write`, which raises a refusal) and Xero what each lacks;
        record. Returns what the timeline says."""
        field_map = self.deps.field_map()
        fields = fields_to_zoho(field_map)
        result = self.merge_pair(pair, fields)
        account_fields, contact_fields = zoho_writes(result.to_zoho, fields)
        if contact_fields and pair.primary is not None:
            write("Contacts", {"id": str(pair.primary["id"]), **contact_fields})
        contact_id = str(pair.contact.get("ContactID")).lower()
        shown = self.shown(field_map, contact_id, contact_url, result.held)
        if account_fields or not account_shows(pair.account, shown, field_map.writeback.last_synced):
            write("Accounts", {"id": pair.account_id, **account_fields, **shown})
        answer = self._write_xero(pair.contact, result.to_xero, fields, deadline)
        self.record_conflicts(pair, result, fields)
        self.save_snapshot(pair.snapshot, result, answer or pair.contact)
        return result

    def _write_xero(
        self, contact: Mapping[str, Any], values: dict[str, str], fields: list[FlowField], deadline: Deadline
    ) -> dict[str, Any] | None:
        if not values:
            return None
        body = xero_update(contact, values, fields)
        raw = json.dumps([contact.get("UpdatedDateUTC"), body], sort_keys=True)
        key = "both-" + hashlib.sha256(raw.encode()).hexdigest()
        [saved] = self.deps.xero.save_contacts([body], idempotency_key=key, deadline=deadline)
        if not saved.ok:
            raise messages.rejection_from_xero(saved.errors, contact.get("Name"))
        return dict(saved.contact)

    # --- shared --------------------------------------------------------------------

    def shown(
        self, field_map: FieldMap, contact_id: str, url: str | None, held: tuple[Conflict, ...]
    ) -> dict[str, Any]:
        """The Account's sync fields: Synced, or Conflict naming the held fields."""
        now = iso_now(self.deps.now())
        if not held:
            return zoho_update(field_map, SyncStatus.SYNCED, contact_id, url, now, None)
        labels = _labels(fields_to_zoho(field_map))
        names = ", ".join(labels.get(c.key, c.key) for c in held)
        message = (
            f"Changed differently in Zoho CRM and in Xero: {names}. Neither value was written; "
            "choose one on the portal's Conflicts page."
        )
        return zoho_update(field_map, SyncStatus.CONFLICT, contact_id, url, now, message)

    def record_conflicts(self, pair: Pair, result: MergeResult, fields: list[FlowField]) -> None:
        """Every conflict in the timeline with both values (a held one once, until its values
        change); held ones kept, settled ones dropped."""
        labels = _labels(fields)
        at = iso_now(self.deps.now())
        stored = {c.key: c for c in self.deps.conflicts.for_account(pair.account_id)}
        for conflict in result.conflicts:
            label = labels.get(conflict.key, conflict.key)
            known = stored.get(conflict.key)
            held = conflict.resolution is Resolution.HELD
            if held and known is not None and (known.zoho, known.xero) == (conflict.zoho, conflict.xero):
                continue  # held already, with these values: the timeline says so
            self.deps.history.add(self._entry(pair, conflict, label, at))
            if held:
                self.deps.conflicts.put(self._held(pair, conflict, label, at))
        conflicted = {c.key for c in result.held}
        for key in stored.keys() - conflicted:  # settled meanwhile (both agree now, or a side gave way)
            self.deps.conflicts.delete(pair.account_id, key)

    def _held(self, pair: Pair, conflict: Conflict, label: str, at: str) -> HeldConflict:
        name = str(pair.account.get(self.deps.field_map().account_name_field) or "")
        contact_id = str(pair.contact.get("ContactID")).lower()
        return HeldConflict(
            pair.account_id,
            conflict.key,
            label,
            conflict.zoho,
            conflict.xero,
            conflict.base,
            contact_id,
            name,
            at,
        )

    def _entry(self, pair: Pair, conflict: Conflict, label: str, at: str) -> HistoryEntry:
        how = {
            Resolution.ZOHO: "Zoho CRM's value was kept",
            Resolution.XERO: "Xero's value was kept",
            Resolution.HELD: "neither was written; choose one on the Conflicts page",
        }[conflict.resolution]
        return HistoryEntry(
            account_id=pair.account_id,
            at=at,
            trigger=pair.trigger,
            status=SyncStatus.CONFLICT if conflict.resolution is Resolution.HELD else SyncStatus.SYNCED,
            action=SyncAction.NONE if conflict.resolution is Resolution.HELD else SyncAction.UPDATED,
            message=(
                f"{label} was changed in both: Zoho CRM {conflict.zoho!r}, Xero {conflict.xero!r} "
                f"(before: {conflict.base or ''!r}); {how}."
            ),
            xero_contact_id=str(pair.contact.get("ContactID")).lower(),
            run_id=pair.run_id,
            detail=f"conflict {conflict.key} {self.deps.policy()}",
        )

    def merge_pair(self, pair: Pair, fields: list[FlowField]) -> MergeResult:
        """The pure merge of one pair under CONFLICT_POLICY (clicks, events and `both` runs)."""
        sides = Sides(
            zoho=zoho_side(pair.account, pair.primary, fields),
            xero=xero_side(pair.contact, fields),
            zoho_modified=_latest(
                pair.account.get("Modified_Time"), (pair.primary or {}).get("Modified_Time")
            ),
            xero_updated=updated_at(pair.contact),
        )
        base = Base(pair.snapshot.zoho, pair.snapshot.xero)
        return merge(base, sides, {f.key: f.direction for f in fields}, ConflictPolicy(self.deps.policy()))

    def save_snapshot(
        self,
        previous: LinkSnapshot,
        result: MergeResult,
        contact: Mapping[str, Any],
        unsent: Collection[str] = (),
    ) -> None:
        """The next base; `unsent` fields keep theirs until a click's push lands (a failed one is retried)."""
        when = updated_at(contact)
        zoho = {k: v for k, v in result.next_base.zoho.items() if k not in unsent}
        xero = {k: v for k, v in result.next_base.xero.items() if k not in unsent}
        self._save(
            replace(
                previous,
                zoho={**previous.zoho, **zoho},
                xero={**previous.xero, **xero},
                xero_updated=max(filter(None, [when, previous.xero_updated]), default=None),
                synced_at=iso_now(self.deps.now()),
            )
        )

    def _save(self, snapshot: LinkSnapshot) -> None:
        try:
            self.deps.snapshots.save(snapshot)
        except StaleStateError:  # saved meanwhile (callers hold the Account's lock, so rare)
            logger.info("snapshot saved meanwhile", extra={"account_id": snapshot.account_id})


def _labels(fields: list[FlowField]) -> dict[str, str]:
    return {f.key: f.label for f in fields}


def _latest(*times: Any) -> str | None:
    present = [str(t) for t in times if t]
    return max(present, key=_sortable) if present else None


def _sortable(text: str) -> str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    except ValueError:
        return text


def account_shows(account: Mapping[str, Any], shown: Mapping[str, Any], last_synced: str) -> bool:
    """Does the Account show these sync fields already (the last-synced time aside)?"""
    return all(str(account.get(k) or "") == str(v or "") for k, v in shown.items() if k != last_synced)
