"""Queue worker: run queued syncs and say which messages must come back later.

Rejected and failed-for-good syncs are finished (recorded, written back) and
acknowledged; passing faults are reported as batch item failures so SQS
redelivers them, and after the last delivery the queue's redrive policy moves
them to the dead-letter queue. Within a FIFO batch, once one message of an
Account fails, the later ones of the same Account are failed too, so they
never overtake it.

Workflow events coalesce (chalicelib/services/coalescing.py): before syncing, a
workflow message waits for its burst to go quiet and takes the pending marker;
the log line "queued sync finished" says how many events the sync covered
(`coalesced_events`). Contact events go first in a batch, so one that joins its
Account's waiting sync is counted there instead of syncing on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from chalicelib import tracing
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RejectedError, RetriableError
from chalicelib.models.sync import Trigger
from chalicelib.models.webhook import SyncMessage
from chalicelib.services.coalescing import Coalescing
from chalicelib.services.sync_account import AccountSyncer, SyncRequest

logger = logging.getLogger(__name__)


@dataclass
class QueuedMessage:
    message_id: str
    body: str
    receive_count: int = 1


def process_messages(
    messages: list[QueuedMessage],
    syncer: AccountSyncer,
    *,
    max_receives: int,
    deadline: Callable[[], Deadline],
    before_each: Callable[[QueuedMessage], None] | None = None,
    coalescing: Coalescing | None = None,
) -> list[str]:
    """Returns the ids of messages to retry. `before_each` lets the handler tag logs per message."""
    failed: list[str] = []
    blocked_groups: set[str] = set()
    for queued in sorted(messages, key=_contact_events_first):
        if before_each is not None:
            before_each(queued)
        message = _parse(queued)
        if message is None:
            continue  # unreadable: retrying cannot help; logged in _parse
        if message.group_id in blocked_groups:
            failed.append(queued.message_id)
            continue
        with tracing.subsegment(
            "## sync message", message_id=queued.message_id, account_id=message.account_id
        ):
            done = _process_one(queued, message, syncer, max_receives, deadline(), coalescing)
        if not done:
            failed.append(queued.message_id)
            blocked_groups.add(message.group_id)
    return failed


def _contact_events_first(queued: QueuedMessage) -> bool:
    """Sort key: contact-only events first (the sort is stable, so each group keeps its order);
    one can then still join its Account's waiting sync when both are in this batch."""
    try:
        message = SyncMessage.model_validate_json(queued.body)
    except ValidationError:
        return True
    return not (message.account_id is None and message.contact_id is not None)


def _process_one(
    queued: QueuedMessage,
    message: SyncMessage,
    syncer: AccountSyncer,
    max_receives: int,
    deadline: Deadline,
    coalescing: Coalescing | None = None,
) -> bool:
    """True when the message is done with (synced, rejected or failed for good)."""
    try:
        # Taken before anything reads Zoho: events from now on get a sync of their own.
        covered = coalescing.take(message, deadline) if _coalesces(message, coalescing) else None
        account_id = message.account_id or syncer.account_for_contact(str(message.contact_id), deadline)
        if covered is not None and _joined_account(message, account_id, covered, coalescing):
            return True
        outcome = syncer.sync(
            SyncRequest(
                account_id=account_id,
                trigger=Trigger(message.trigger),
                deadline=deadline,
                run_id=message.run_id,
                final_attempt=queued.receive_count >= max_receives,
            )
        )
    except (RejectedError, FatalError) as error:  # only from resolving a contact's Account
        logger.info("queued contact event skipped", extra={"reason": error.message})
        return True
    except RetriableError as error:
        logger.info(
            "sync will be retried",
            extra={"message_id": queued.message_id, "attempt": queued.receive_count, "reason": error.detail},
        )
        return False
    except Exception:  # a bug must not take the rest of the batch down with it
        logger.exception("queued sync crashed; it will be retried", extra={"message_id": queued.message_id})
        return False
    logger.info(
        "queued sync finished",
        extra={
            "account_id": outcome.account_id,
            "status": outcome.status.value,
            "action": outcome.action.value,
            "coalesced_events": covered,
        },
    )
    return not outcome.writeback_pending or queued.receive_count >= max_receives


def _coalesces(message: SyncMessage, coalescing: Coalescing | None) -> bool:
    # Button retries and bulk runs never coalesce; only workflow events made markers.
    return coalescing is not None and message.trigger == "workflow"


def _joined_account(
    message: SyncMessage, account_id: str, covered: int, coalescing: Coalescing | None
) -> bool:
    """A contact event whose Account already has a sync waiting adds itself to it."""
    if message.account_id or coalescing is None or not coalescing.join_account(account_id, covered):
        return False
    logger.info(
        "contact event joins its Account's waiting sync",
        extra={"account_id": account_id, "coalesced_events": covered},
    )
    return True


def _parse(queued: QueuedMessage) -> SyncMessage | None:
    try:
        message = SyncMessage.model_validate_json(queued.body)
    except ValidationError:
        logger.error("dropping unreadable queue message", extra={"message_id": queued.message_id})
        return None
    if not message.account_id and not message.contact_id:
        logger.error("dropping queue message without a record id", extra={"message_id": queued.message_id})
        return None
    return message
