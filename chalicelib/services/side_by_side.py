"""One linked pair side by side: per mapped field, what Zoho, Xero and the last synced values
(the base) hold, and what the next sync would write each way. Read-only (the Account page).

The decisions are not made here: they are services/sync/merge.py's `merge` (the one Both Way
uses) over the same readers as a sync (mapping/directions.py `zoho_side` / `xero_side`). With
SYNC_MODE=one_way a click sends Zoho's values over whatever Xero holds (`zoho_wins`), and a
change made in Xero comes back through its event, so the same merge answers both columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, prepare_contact
from chalicelib.mapping.directions import mapped_fields, xero_side, zoho_side
from chalicelib.services.sync.from_xero import updated_at
from chalicelib.services.sync.merge import Base, ConflictPolicy, MergeResult, Resolution, Sides, merge

ARROWS = {"to_xero": "Zoho CRM → Xero", "to_zoho": "Xero → Zoho CRM", "both": "both ways"}


@dataclass(frozen=True)
class FieldRow:
    label: str
    direction: str  # "Zoho CRM → Xero", "Xero → Zoho CRM", "both ways"
    zoho: str
    xero: str
    base: str | None  # the value both held after the last sync (None: not recorded yet)
    to_xero: str | None  # what the next sync writes into Xero ("" clears it; None: nothing)
    to_zoho: str | None
    conflict: str = ""  # how a field changed on both sides is settled, in words


@dataclass(frozen=True)
class SideBySideView:
    rows: list[FieldRow]
    policy: str
    has_base: bool

    @property
    def writes(self) -> int:
        return sum(1 for r in self.rows if r.to_xero is not None or r.to_zoho is not None)


class SideBySide:
    def __init__(
        self,
        zoho: Any,  # ZohoClient
        xero: Any,  # XeroClient
        states: Any,  # AccountStateRepository
        snapshots: Any,  # SnapshotRepository
        field_map: Callable[[], FieldMap],
        policy: Callable[[], str],  # CONFLICT_POLICY, or "zoho_wins" when SYNC_MODE=one_way
    ) -> None:
        self.zoho, self.xero, self.states, self.snapshots = zoho, xero, states, snapshots
        self.field_map, self.policy = field_map, policy

    def compare(self, account_id: str, deadline: Deadline) -> SideBySideView | None:
        """None when the Account is not linked to a Xero contact yet (or is gone)."""
        state = self.states.get(account_id)
        if state is None or not state.xero_contact_id:
            return None
        field_map = self.field_map()
        fields = ["Modified_Time", *field_map.account_fields()]
        account = self.zoho.get_record("Accounts", account_id, fields, deadline)
        contact = self.xero.get_contact(state.xero_contact_id, deadline)
        if account is None or contact is None:
            return None
        contacts = self.zoho.get_related_contacts(account_id, field_map.contact_fields(), deadline)
        snapshot = self.snapshots.get(account_id)
        base = Base(snapshot.zoho, snapshot.xero) if snapshot is not None and snapshot.xero else Base()
        primary, pushed = _as_a_push(account, contacts, field_map)
        return side_by_side(field_map, account, primary, contact, base, self.policy(), pushed)


def side_by_side(
    field_map: FieldMap,
    account: Mapping[str, Any],
    primary: Mapping[str, Any] | None,
    contact: Mapping[str, Any],
    base: Base,
    policy: str,
    pushed: Mapping[str, Any] | None = None,
) -> SideBySideView:
    """Pure: the rows for these records and base under this policy. `pushed` is the contact a
    push would send: the fields that only go to Xero are compared in Xero's form, as a sync does
    (a picklist "day(s) after invoice date" is Xero's DAYSAFTERBILLDATE, not a change)."""
    fields = [f for f in mapped_fields(field_map) if f.key != "ContactNumber"]
    zoho = zoho_side(account, primary, fields)
    xero = xero_side(contact, fields)
    compared = zoho
    if pushed is not None:
        compared = {**zoho, **xero_side(pushed, [f for f in fields if f.direction == "to_xero"])}
    sides = Sides(compared, xero, account.get("Modified_Time"), updated_at(contact))
    result = merge(base, sides, {f.key: f.direction for f in fields}, ConflictPolicy(policy))
    conflicts = _conflicts(result)
    rows = [
        FieldRow(
            label=f.label,
            direction=ARROWS.get(f.direction, f.direction),
            zoho=zoho[f.key],
            xero=xero[f.key],
            base=base.zoho.get(f.key) if f.direction == "both" else None,
            to_xero=result.to_xero.get(f.key),
            to_zoho=result.to_zoho.get(f.key),
            conflict=conflicts.get(f.key, ""),
        )
        for f in fields
    ]
    return SideBySideView(rows, policy, bool(base.xero))


def _conflicts(result: MergeResult) -> dict[str, str]:
    words = {
        Resolution.ZOHO: "changed in both: Zoho CRM's value wins",
        Resolution.XERO: "changed in both: Xero's value wins",
        Resolution.HELD: "changed in both: held for a person to choose",
    }
    return {c.key: words[c.resolution] for c in result.conflicts}


def _as_a_push(
    account: Mapping[str, Any], contacts: list[dict[str, Any]], field_map: FieldMap
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The primary Contact as a sync picks it, and the contact a push would send; neither when
    the Account would be rejected."""
    try:
        prepared = prepare_contact(dict(account), contacts, field_map)
    except RejectedError:
        return None, None
    primary_id = prepared.primary_contact_id
    primary = next((c for c in contacts if primary_id and str(c.get("id")) == primary_id), None)
    return primary, prepared.xero_contact
