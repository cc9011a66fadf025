"""DynamoDB data-access layer: one table, one repository per kind of record.

Repositories receive a low-level `boto3.client("dynamodb")` and the table name;
they never create clients or read settings. Values are converted with boto3's
TypeSerializer/TypeDeserializer (floats via Decimal). Attributes whose value is
None are left out of items.

Item layout. Table keys `pk`/`sk` (strings); index `gsi1` on `gsi1pk`/`gsi1sk`
(projection ALL, sparse); TTL attribute `ttl` (epoch seconds); every item has
`entity` (ACCOUNT_STATE, HISTORY, TOKEN, LOCK, PENDING, BUDGET) to help when reading the raw table.

Account state  (accounts.py)
    pk ACCOUNT#{account_id}   sk STATE
    the AccountState fields; `version` (N) for optimistic concurrency, 1 after
    the first save. Only when linked (tenant_id and xero_contact_id set):
    gsi1pk XERO#{tenant_id}#{xero_contact_id}, gsi1sk ACCOUNT#{account_id}.

History entry  (history.py)
    pk ACCOUNT#{account_id}   sk HIST#{utc_time}#{8 hex chars}
    the HistoryEntry fields; `ttl` = write time + retention days. utc_time is
    `at` normalised to YYYY-MM-DDTHH:MM:SS.ffffffZ so text order is time order.

Token set      (tokens.py)
    pk TOKEN#{provider}   sk TOKEN        (provider: xero | zoho)
    the TokenSet fields; `version` (N); `previous_refresh_token`, `rotated_at`;
    the refresh lease `lease_owner`, `lease_expires_at`; `last_error_at`. No ttl.

Lock / lease   (locks.py)
    pk LOCK#{name}   sk LOCK
    `name`, `owner`, `acquired_at`, `expires_at` (N, fractional epoch seconds);
    `ttl` = ceil(expires_at).

Pending sync   (pending.py)
    pk PENDING#{group}   sk PENDING     (group: the queue's message group,
    account-{account_id} or contact-{contact_id})
    `group`, `marker_id` (set by the event that made it), `events` (N, workflow
    events since then), `first_event_at`, `last_event_at`, `enqueued_at` (N, epoch
    seconds; absent until a message that will take the marker is confirmed on the
    queue); `ttl` = last event + 1 day. Exists while a queued workflow sync waits
    for its burst of saves to end; the worker deletes it just before it syncs
    (see chalicelib/services/coalescing.py).

Xero rate budget  (budget.py)
    pk BUDGET#{tenant_id}   sk BUDGET     one item per Xero organisation
    `tenant_id`; fixed windows `minute_start`/`minute_used`, `day_start`/`day_used`
    (N, epoch seconds and calls reserved); `lease_{i}` = {owner, expires_at} while
    concurrency slot i is in flight; `blocked_until` (N), `blocked_problem` (S) from
    Xero's last 429; `ttl` = last write + 2 days. Reserving a call is one
    conditional UpdateItem on this item (counts, slot and block checked together).

Reserved for later: pk RUN#{run_id} (bulk runs).

History shares the Account's partition so one Query (begins_with HIST#, newest
first) pages it; the STATE item sorts apart and is never matched. Expiry that
matters (locks, token leases) is checked in condition expressions: DynamoDB TTL
deletes late, and moto never does. TTL only cleans up.
"""

from chalicelib.store.accounts import AccountStateRepository, SaveResult
from chalicelib.store.budget import RateBudgetRepository
from chalicelib.store.errors import InvalidCursorError, StaleStateError, StoreError, StoreThrottledError
from chalicelib.store.history import HistoryRepository
from chalicelib.store.locks import LockRepository
from chalicelib.store.schema import TABLE_DEFINITION, create_table
from chalicelib.store.tokens import TokenRepository

__all__ = [
    "TABLE_DEFINITION",
    "AccountStateRepository",
    "HistoryRepository",
    "InvalidCursorError",
    "LockRepository",
    "RateBudgetRepository",
    "SaveResult",
    "StaleStateError",
    "StoreError",
    "StoreThrottledError",
    "TokenRepository",
    "create_table",
]
