"""Every decision of a Xero → Zoho CRM sync, in one place and without I/O.

A Xero webhook and a `xero_to_zoho` run ask the same questions of one Xero contact, and
answer them here (services/xero_inbound/ does the reading and the writing):

- Which Account is it? Its ContactNumber when that is a Zoho record id, else the Account our
  records or a claim link to it, else the Account whose Xero ID is its ContactID (`account_key`).
- Is the change new? Older than what we last synced (UpdatedDateUTC) → STALE; every mapped
  value equal to what we last synced (our own write coming back, or a redelivery) → ECHO.
- What does Zoho get? The values flowing into Zoho (direction to_zoho or both) that changed
  in Xero since the last sync and differ from what Zoho shows (`decide_linked`); for a contact
  no Account holds, a new Account and primary Contact (`decide_unlinked`).

The values compared are the map's keys (mapping/directions.py); the stored "last synced
values" are a `LinkSnapshot` (store/snapshots.py), the base Both Way will merge against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import FlowField, Values, changed, xero_side, zoho_side, zoho_writes
from chalicelib.models.sync import SyncStatus
from chalicelib.models.webhook import ZOHO_ID
from chalicelib.services.sync.decide import ACTIVE, iso_now, zoho_update
from chalicelib.store.snapshots import LinkSnapshot

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


class InboundVerdict(StrEnum):
    UPDATE = "update"  # write the changed values onto the Account / primary Contact
    CREATE = "create"  # a new Account (and primary Contact) for this contact
    ECHO = "echo"  # nothing changed since the last sync (our own write, or a redelivery)
    STALE = "stale"  # older than what we last synced: never overwrite newer data
    SKIP = "skip"  # not ours to create (creation off, archived, …); `reason` says why
    ARCHIVED = "archived"  # archived in Xero: the Account shows it, nothing else synced


@dataclass(frozen=True)
class InboundDecision:
    verdict: InboundVerdict
    account_fields: dict[str, Any] = field(default_factory=dict)  # Accounts: the values to write
    contact_fields: dict[str, Any] = field(default_factory=dict)  # the primary Contact's
    xero_values: Values = field(default_factory=dict)  # Xero's values now (the next snapshot)
    reason: str = ""

    @property
    def writes(self) -> bool:
        return bool(self.account_fields or self.contact_fields)


def account_key(contact: Mapping[str, Any]) -> str | None:
    """The Zoho Account id the contact names itself (ContactNumber), when it is one."""
    number = str(contact.get("ContactNumber") or "").strip()
    return number if ZOHO_ID.match(number) else None


def updated_at(contact: Mapping[str, Any]) -> str | None:
    """Xero's UpdatedDateUTC as ISO 8601 UTC to the millisecond (comparable as text)."""
    raw = contact.get("UpdatedDateUTC")
    if not raw:
        return None
    match = _MS_DATE.fullmatch(str(raw).strip())
    if match:
        when = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    else:
        try:
            when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def is_older(contact: Mapping[str, Any], snapshot: LinkSnapshot | None) -> bool:
    """Did we already sync a newer version of this contact?"""
    now, then = updated_at(contact), snapshot.xero_updated if snapshot else None
    return bool(now and then and now < then)


def is_known_version(
    contact: Mapping[str, Any], snapshot: LinkSnapshot | None, fields: list[FlowField]
) -> bool:
    """Every value flowing into Zoho is what the pair's snapshot holds, and the version is not
    older: `decide_linked` could only answer ECHO, whatever Zoho shows, so the worker answers it
    without reading Zoho (Xero announces each of our own writes; a bulk run makes many)."""
    if snapshot is None or not snapshot.xero or is_older(contact, snapshot):
        return False
    same_contact = str(contact.get("ContactID") or "").lower() == (snapshot.contact_id or "")
    return same_contact and not changed(xero_side(contact, fields), snapshot.xero)


def decide_linked(
    contact: Mapping[str, Any],
    account: Mapping[str, Any],
    primary: Mapping[str, Any] | None,
    snapshot: LinkSnapshot | None,
    fields: list[FlowField],
) -> InboundDecision:
    """What a change of a linked contact does to its Account and primary Contact."""
    now = xero_side(contact, fields)
    if is_older(contact, snapshot):
        return InboundDecision(InboundVerdict.STALE, xero_values=now)
    # Without a snapshot (linked before snapshots existed) Zoho's own values are the base.
    first_link = snapshot is None or not snapshot.xero
    base = snapshot.xero if snapshot is not None and not first_link else zoho_side(account, primary, fields)
    moved = changed(now, base)
    if first_link:  # an empty Xero value is no evidence of a clearing yet: keep what Zoho has
        moved = {key: value for key, value in moved.items() if value not in (None, "")}
    behind = changed(moved, zoho_side(account, primary, fields))
    if not behind:
        return InboundDecision(InboundVerdict.ECHO, xero_values=now)
    account_fields, contact_fields = zoho_writes(behind, fields)
    return InboundDecision(InboundVerdict.UPDATE, account_fields, contact_fields, now)


def decide_unlinked(
    contact: Mapping[str, Any], field_map: FieldMap, fields: list[FlowField], *, creates_accounts: bool
) -> InboundDecision:
    """A contact no Account holds: a new Account (Add to Xero ticked, its Xero ID set) and,
    when Xero has a person on it, its primary Contact."""
    now = xero_side(contact, fields)
    if not creates_accounts:
        return InboundDecision(InboundVerdict.SKIP, xero_values=now, reason="XERO_CREATES_ACCOUNTS is false")
    status = str(contact.get("ContactStatus") or ACTIVE)
    if status != ACTIVE:
        return InboundDecision(
            InboundVerdict.SKIP, xero_values=now, reason=f"the contact is {status.lower()}"
        )
    account_fields, contact_fields = zoho_writes({k: v for k, v in now.items() if v}, fields)
    account_fields[field_map.account_name_field] = str(contact.get("Name") or "").strip() or None
    account_fields[field_map.add_to_xero_field] = True
    account_fields[field_map.writeback.xero_id] = str(contact.get("ContactID"))
    if contact_fields:
        contact_fields[field_map.primary_contact_field] = True
    return InboundDecision(InboundVerdict.CREATE, account_fields, contact_fields, now)


def namesake_to_adopt(
    contact: Mapping[str, Any], namesakes: Sequence[Mapping[str, Any]], xero_id_field: str
) -> tuple[str | None, str]:
    """Before creating an Account for an unlinked contact: Zoho's Accounts of the same name.

    Exactly one, holding no Xero contact → link it (the id), as a Zoho → Xero sync adopts a Xero
    contact of the Account's name: one customer, one Account. Any other namesake → create nothing
    (the reason), since another Account of that name is a duplicate a person must sort out.
    No namesake → (None, ""): create."""
    if not namesakes:
        return None, ""
    name = str(contact.get("Name") or "").strip()
    if len(namesakes) == 1 and not str(namesakes[0].get(xero_id_field) or "").strip():
        return str(namesakes[0]["id"]), ""
    if len(namesakes) > 1:
        return None, (
            f"Zoho CRM has more than one Account named {name!r}, so none was created for this "
            "Xero contact. Merge or rename those Accounts in Zoho CRM, then save the contact in "
            "Xero again"
        )
    return None, (
        f"Zoho CRM's Account named {name!r} is already linked to another Xero contact, so none "
        "was created for this one. If they are the same customer, merge the two contacts in "
        "Xero; if not, rename one of them"
    )


def shown_in_zoho(
    field_map: FieldMap, contact_id: str, contact_url: str | None, at: datetime, error: str | None = None
) -> dict[str, Any]:
    """The Account's Xero fields after a change from Xero: status, link, last synced (or the error)."""
    status = SyncStatus.SYNCED if error is None else SyncStatus.FAILED
    return zoho_update(
        field_map, status, contact_id, contact_url, iso_now(at) if error is None else None, error
    )


def next_snapshot(
    previous: LinkSnapshot | None,
    account_id: str,
    tenant_id: str,
    contact: Mapping[str, Any],
    fields: list[FlowField],
    *,
    zoho_values: Values,
    primary_contact_id: str | None,
    at: datetime,
) -> LinkSnapshot:
    """The pair's last synced values once both sides hold them (either direction)."""
    base = previous or LinkSnapshot(account_id=account_id)
    return LinkSnapshot(
        account_id=account_id,
        tenant_id=tenant_id,
        contact_id=str(contact.get("ContactID") or base.contact_id or "").lower() or None,
        primary_contact_id=primary_contact_id or base.primary_contact_id,
        xero=xero_side(contact, fields),
        zoho={**base.zoho, **zoho_values},
        xero_updated=max(filter(None, [updated_at(contact), base.xero_updated]), default=None),
        synced_at=iso_now(at),
        version=base.version,
    )
