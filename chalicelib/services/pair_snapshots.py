"""After a Zoho → Xero write: the pair's last synced values (store/snapshots.py), so the webhook
event Xero sends for our own write is recognised and makes no Zoho write."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.mapping import FieldMap
from chalicelib.mapping.clearing import cleared_since, with_values
from chalicelib.mapping.directions import fields_to_zoho, mapped_fields, xero_side
from chalicelib.services.sync.from_xero import next_snapshot
from chalicelib.store.errors import StaleStateError

if TYPE_CHECKING:
    from chalicelib.store.snapshots import LinkSnapshot, SnapshotRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Push:
    """One pair a Zoho → Xero write just synced."""

    account_id: str
    tenant_id: str
    xero_contact: dict[str, Any]  # Xero's answer
    sent: dict[str, Any]  # what we sent, from Zoho
    primary_contact_id: str | None


def record_pushes(
    snapshots: SnapshotRepository, pushes: list[Push], field_map: FieldMap, now: datetime
) -> None:
    """`record_push` for a bulk batch: one batched read and one batched write for all of it."""
    previous = snapshots.get_many([p.account_id for p in pushes])
    snapshots.put_many([_snapshot(previous.get(p.account_id), p, field_map, now) for p in pushes])


def record_push(
    snapshots: SnapshotRepository,
    account_id: str,
    tenant_id: str,
    xero_contact: dict[str, Any],
    sent: dict[str, Any],
    primary_contact_id: str | None,
    field_map: FieldMap,
    now: datetime,
) -> None:
    """After one Zoho → Xero write: the pair's last synced values (Xero's answer, and what we
    sent from Zoho)."""
    push = Push(account_id, tenant_id, xero_contact, sent, primary_contact_id)
    snapshot = _snapshot(snapshots.get(account_id), push, field_map, now)
    try:
        snapshots.save(snapshot)
    except StaleStateError:
        logger.info("snapshot saved meanwhile", extra={"account_id": account_id})


def _snapshot(previous: LinkSnapshot | None, push: Push, field_map: FieldMap, now: datetime) -> LinkSnapshot:
    return next_snapshot(
        previous,
        push.account_id,
        push.tenant_id,
        push.xero_contact,
        fields_to_zoho(field_map),
        # every mapped field, to_xero ones too, so a value cleared in Zoho is cleared in Xero
        zoho_values=xero_side(push.sent, mapped_fields(field_map)),
        primary_contact_id=push.primary_contact_id,
        at=now,
    )


def with_clears(
    snapshot: LinkSnapshot | None,
    contact_id: str,
    body: dict[str, Any],
    field_map: FieldMap,
    keeps: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`body` with the fields emptied in Zoho since the last sync to this contact sent empty, so
    Xero clears them too (the map leaves empty values out, and Xero keeps what a request leaves
    out); `keeps` (Both Way: a held field) are sent with Xero's own value. A click and a run's
    batch both send this."""
    if snapshot is None or (snapshot.contact_id or "") != contact_id.lower():
        return body
    fields = mapped_fields(field_map)
    return with_values(body, {**cleared_since(body, snapshot.zoho, fields), **(keeps or {})}, fields)
