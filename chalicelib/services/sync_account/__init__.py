"""Use case: sync one Zoho CRM Account (with its Contacts) into one Xero Contact.

The webhook is only a hint: we always re-read the Account and its Contacts,
validate and map them with the declarative field map, let `services/sync/decide.py`
decide (unchanged? which Xero contact, by stable identity, read live from Xero?),
write it with an Idempotency-Key, record the result, and write the outcome back
onto the Account.

Never two Xero contacts for one Account: a per-Account lock serialises syncs,
and a lookup by ContactNumber always precedes a create, so even a crash between
the Xero write and our state write only leads to an update next time.

Read top-down: syncer.py (the flow) → records.py (state, timeline, write-back onto the
Account); model.py holds the dependencies and the request.
"""

from chalicelib.services.sync_account.model import SyncDependencies, SyncRequest
from chalicelib.services.sync_account.syncer import AccountSyncer

__all__ = ["AccountSyncer", "SyncDependencies", "SyncRequest"]
