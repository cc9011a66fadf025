"""The sync queue's Xero messages: one per changed contact, all of a Lambda batch read in ONE call.

Each message is done (synced, nothing to do, or refused and reported) or reported back for
redelivery (a passing fault); after the queue's last delivery SQS moves it to the dead-letter
queue. A message whose contact already failed in this batch goes back with it (FIFO order).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from chalicelib import metrics, tracing
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RateLimitedError, RejectedError, RetriableError
from chalicelib.models.sync import Trigger
from chalicelib.services.sync.from_xero import InboundVerdict
from chalicelib.services.xero_inbound import XeroInbound
from chalicelib.xero_queue import XeroContactMessage, read_message

logger = logging.getLogger(__name__)

# Keep a received message out of sight this many seconds (SyncQueue.hold_back).
HoldBack = Callable[[str, float], bool]

# The `Syncs` metric's outcome for each verdict (echo, stale and skip change nothing).
_OUTCOMES = {InboundVerdict.UPDATE: "updated", InboundVerdict.CREATE: "created"}


def is_xero_record(record: dict[str, Any]) -> bool:
    return read_message(str(record.get("body", ""))) is not None


def process_xero_records(
    records: list[dict[str, Any]],
    inbound: XeroInbound,
    deadline: Callable[[], Deadline],
    hold_back: HoldBack | None = None,
) -> list[str]:
    """The message ids to redeliver."""
    by_tenant: dict[str, list[tuple[str, XeroContactMessage]]] = defaultdict(list)
    receipts: dict[str, str] = {}
    for record in records:
        message = read_message(str(record.get("body", "")))
        if message is not None:
            by_tenant[message.tenant_id].append((str(record["messageId"]), message))
            if record.get("receiptHandle"):
                receipts[str(record["messageId"])] = str(record["receiptHandle"])
    failed: list[str] = []
    for tenant_id, messages in by_tenant.items():
        try:
            failed += _one_tenant(tenant_id, messages, inbound, deadline())
        except RateLimitedError as error:
            waiting = [message_id for message_id, _ in messages]
            _hold_back(waiting, receipts, error, hold_back)
            failed += waiting
    return failed


def _hold_back(
    message_ids: list[str], receipts: dict[str, str], error: RateLimitedError, hold_back: HoldBack | None
) -> None:
    """Rate-limited events come back when the limit says (Retry-After), not at the queue's next
    visibility timeout: one receive per wait, instead of the backlog of a bulk run's echoes
    received (and read against the budget) again every few seconds until the dead-letter queue."""
    held = 0
    if hold_back is not None and error.retry_after is not None:
        held = sum(1 for m in message_ids if m in receipts and hold_back(receipts[m], error.retry_after))
    logger.info(
        "reading changed xero contacts waits for the rate limit",
        extra={
            "reason": error.message,
            "retry_after": error.retry_after,
            "events": len(message_ids),
            "held_back": held,
        },
    )


def _one_tenant(
    tenant_id: str, messages: list[tuple[str, XeroContactMessage]], inbound: XeroInbound, deadline: Deadline
) -> list[str]:
    """The message ids to redeliver; raises RateLimitedError when the read must wait."""
    try:
        contacts = inbound.fetch(tenant_id, [m.contact_id for _, m in messages], deadline)
    except FatalError as error:
        logger.warning("xero events dropped", extra={"reason": error.message, "events": len(messages)})
        return []
    except RateLimitedError:  # expected while a bulk run uses the budget: held back, no traceback
        raise
    except Exception:  # RetriableError, or a fault: every message comes back
        logger.warning("reading changed xero contacts failed; retrying", exc_info=True)
        return [message_id for message_id, _ in messages]
    failed_contacts: set[str] = set()
    for contact in contacts:
        if not _synced(tenant_id, contact, inbound, deadline):
            failed_contacts.add(str(contact.get("ContactID")).lower())
    return [message_id for message_id, m in messages if m.contact_id in failed_contacts]


def _synced(tenant_id: str, contact: dict[str, Any], inbound: XeroInbound, deadline: Deadline) -> bool:
    contact_id = str(contact.get("ContactID"))
    with tracing.subsegment("## xero contact", contact_id=contact_id, tenant_id=tenant_id):
        return _sync_one(tenant_id, contact_id, contact, inbound, deadline)


def _sync_one(
    tenant_id: str, contact_id: str, contact: dict[str, Any], inbound: XeroInbound, deadline: Deadline
) -> bool:
    try:
        outcome = inbound.sync_contact(tenant_id, contact, deadline)
    except (RejectedError, FatalError) as error:
        logger.warning("xero contact not synced", extra={"contact_id": contact_id, "reason": error.message})
        metrics.sync_finished("rejected", Trigger.XERO)
        return True
    except RetriableError as error:
        logger.info("xero contact will be retried", extra={"contact_id": contact_id, "reason": error.message})
        return False
    except Exception:  # a bug must not take the rest of the batch down with it
        logger.exception("xero contact sync crashed; it will be retried", extra={"contact_id": contact_id})
        return False
    metrics.sync_finished(_OUTCOMES.get(outcome.verdict, "unchanged"), Trigger.XERO)
    # Echoes (Xero announcing our own writes: one per contact of a bulk run) are not news.
    quiet = outcome.verdict in (InboundVerdict.ECHO, InboundVerdict.STALE)
    logger.log(
        logging.DEBUG if quiet else logging.INFO,
        "xero contact synced",
        extra={"contact_id": contact_id, "verdict": outcome.verdict.value, "account_id": outcome.account_id},
    )
    return True
