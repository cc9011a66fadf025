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

Read top-down: service.py (which Account; update, create or skip) → update.py (a linked pair)
and create.py (a new Account) → writes.py (Zoho and Xero writes, refusals) → records.py
(snapshot, link, timeline); model.py holds what they share.
"""

from chalicelib.services.pair_snapshots import Push, record_push, record_pushes
from chalicelib.services.xero_inbound.create import CLAIM_STALE_SECONDS
from chalicelib.services.xero_inbound.model import (
    ContactChange,
    InboundDependencies,
    InboundOutcome,
    ZohoRefused,
)
from chalicelib.services.xero_inbound.service import XeroInbound

__all__ = [
    "CLAIM_STALE_SECONDS",
    "ContactChange",
    "InboundDependencies",
    "InboundOutcome",
    "Push",  # services/pair_snapshots.py's, where callers used to find it
    "XeroInbound",
    "ZohoRefused",
    "record_push",
    "record_pushes",
]
