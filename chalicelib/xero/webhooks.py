"""Xero's webhooks: the signature and the events, as Xero sends them.

`x-xero-signature` is base64(HMAC-SHA256(webhook key, raw body)) (Xero's webhooks guide).
It is checked on the raw bytes, before anything parses them, in constant time. Events carry
ids only; what changed is read from Xero afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

SIGNATURE_HEADER = "x-xero-signature"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CONTACT = "CONTACT"


def sign(body: bytes, key: str) -> str:
    """What Xero puts in x-xero-signature for this body."""
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed(raw_body: bytes, headers: Mapping[str, str], key: str) -> bool:
    """True only when the body carries a valid signature made with `key` (never with no key)."""
    if not key:
        return False  # an unset key must never mean "accept everything"
    given = headers.get(SIGNATURE_HEADER)
    if given is None:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    if not given:
        return False
    return hmac.compare_digest(given.strip().encode("ascii", "replace"), sign(raw_body, key).encode("ascii"))


class XeroEvent(BaseModel):
    """One event of a delivery (Xero's webhook payload, `events[]`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    resource_id: str
    tenant_id: str
    category: str
    event_type: str
    event_date: str = ""

    @classmethod
    def from_wire(cls, raw: Any) -> XeroEvent | None:
        """The event, or None when it is not one we can act on (bad ids, missing fields)."""
        if not isinstance(raw, dict):
            return None
        try:
            return cls.model_validate(
                {
                    "resource_id": raw.get("resourceId"),
                    "tenant_id": raw.get("tenantId"),
                    "category": raw.get("eventCategory"),
                    "event_type": raw.get("eventType"),
                    "event_date": str(raw.get("eventDateUtc") or ""),
                }
            )
        except ValidationError:
            return None

    @field_validator("resource_id", "tenant_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not _GUID.match(value):
            raise ValueError("not a Xero id")
        return value.lower()


def contact_events(payload: Any, tenants: Iterable[str] | None) -> list[XeroEvent]:
    """The CONTACT events of a delivery for the organisations we sync (None: any; the queue
    consumer checks again). Other categories (invoices, …) and organisations are ignored."""
    raw_events = payload.get("events") if isinstance(payload, dict) else None
    wanted = None if tenants is None else {t.lower() for t in tenants}
    events: list[XeroEvent] = []
    for raw in raw_events if isinstance(raw_events, list) else []:
        event = XeroEvent.from_wire(raw)
        if event is None or event.category.upper() != CONTACT:
            continue
        if wanted is not None and event.tenant_id not in wanted:
            continue
        events.append(event)
    return events
