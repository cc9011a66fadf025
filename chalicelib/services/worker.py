"""Queue worker: run queued syncs and say which messages must come back later.

Rejected and failed-for-good syncs are finished (recorded, written back) and
acknowledged; passing faults are reported as batch item failures (Powertools'
SqsFifoPartialProcessor builds that answer) so SQS
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
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from chalicelib import tracing
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RateLimitedError, RejectedError, RetriableError
from chalicelib.models.sync import SyncOutcome, Trigger
from chalicelib.models.webhook import SyncMessage
from chalicelib.services.coalescing import Coalescing
from chalicelib.services.sync_account import AccountSyncer, SyncRequest

logger = logging.getLogger(__name__)


@dataclass
class QueuedMessage:
    """A sync message as our code reads it; `to_record` gives the SQS record Lambda would pass."""

    message_id: str
    body: str
    receive_count: int = 1
    receipt_handle: str | None = None

    @classmethod
    def from_record(cls, record: SQSRecord) -> QueuedMessage:
        count = int(record.attributes.approximate_receive_count or 1)
        return cls(record.message_id, record.body, count, record.get("receiptHandle"))

    def to_record(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "body": self.body,
            "attributes": {"ApproximateReceiveCount": str(self.receive_count)},
        }


class RetryLater(Exception):
    """Raised from a record handler: the batch processor reports the message for redelivery."""


# Keep a received message out of sight this many seconds (SyncQueue.hold_back).
HoldBack = Callable[[str, float], bool]


def process_records(
    records: list[dict[str, Any]],
    syncer: AccountSyncer,
    *,
    max_receives: int,
    deadline: Callable[[], Deadline],
    before_each: Callable[[QueuedMessage], None] | None = None,
    coalescing: Coalescing | None = None,
    hold_back: HoldBack | None = None,
) -> PartialItemFailureResponse:
    """Run one FIFO batch; the answer is Lambda's partial batch response (`batchItemFailures`).

    Powertools' SqsFifoPartialProcessor keeps the FIFO promise: once a message of an Account's
    group fails, the later ones of that group are reported failed without running.
    """

    def handle(record: SQSRecord) -> None:
        queued = QueuedMessage.from_record(record)
        if before_each is not None:
            before_each(queued)
        if not _handle(queued, syncer, max_receives, deadline, coalescing, hold_back):
            raise RetryLater(queued.message_id)

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # A batch that fails whole is still answered with its failures, not an exception: SQS
    # redelivers the same messages either way, and the handler's own metrics and logs stay clean.
    processor.raise_on_entire_batch_failure = False
    ordered = [_with_group(record) for record in sorted(records, key=_contact_events_first)]
    with processor(ordered, handle):
        processor.process()
    return processor.response()


def process_messages(
    messages: list[QueuedMessage],
    syncer: AccountSyncer,
    *,
    max_receives: int,
    deadline: Callable[[], Deadline],
    before_each: Callable[[QueuedMessage], None] | None = None,
    coalescing: Coalescing | None = None,
) -> list[str]:
    """`process_records` for messages already read (the ids of those to retry)."""
    response = process_records(
        [message.to_record() for message in messages],
        syncer,
        max_receives=max_receives,
        deadline=deadline,
        before_each=before_each,
        coalescing=coalescing,
    )
    return [str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]]


def _handle(
    queued: QueuedMessage,
    syncer: AccountSyncer,
    max_receives: int,
    deadline: Callable[[], Deadline],
    coalescing: Coalescing | None,
    hold_back: HoldBack | None = None,
) -> bool:
    """True when the message is done with (synced, dropped, rejected or failed for good)."""
    message = _parse(queued)
    if message is None:
        return True  # unreadable: retrying cannot help; logged in _parse
    with tracing.subsegment("## sync message", message_id=queued.message_id, account_id=message.account_id):
        try:
            return _process_one(queued, message, syncer, max_receives, deadline(), coalescing)
        except RateLimitedError as error:
            _hold_back(queued, error, hold_back)
            return False


def _with_group(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its MessageGroupId (SQS sends it; a record built by hand gets the group the
    message is sent with, read from its body) so the processor can hold back the rest of a group."""
    attributes = dict(record.get("attributes") or {})
    if not attributes.get("MessageGroupId"):
        message = _read(str(record.get("body", "")))
        if message is not None:
            attributes["MessageGroupId"] = message.group_id
    return {**record, "attributes": attributes}


def _read(body: str) -> SyncMessage | None:
    try:
        return SyncMessage.model_validate_json(body)
    except ValidationError:
        return None


def _contact_events_first(record: dict[str, Any]) -> bool:
    """Sort key: contact-only events first (the sort is stable, so each group keeps its order);
    one can then still join its Account's waiting sync when both are in this batch."""
    message = _read(str(record.get("body", "")))
    if message is None:
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
        covered, outcome = _sync(queued, message, syncer, max_receives, deadline, coalescing)
    except (RejectedError, FatalError) as error:  # only from resolving a contact's Account
        logger.info("queued contact event skipped", extra={"reason": error.message})
        return True
    except RateLimitedError:
        raise  # _handle holds the message back until the limit allows
    except RetriableError as error:
        logger.info(
            "sync will be retried",
            extra={"message_id": queued.message_id, "attempt": queued.receive_count, "reason": error.detail},
        )
        return False
    except Exception:  # a bug must not take the rest of the batch down with it
        logger.exception("queued sync crashed; it will be retried", extra={"message_id": queued.message_id})
        return False
    if outcome is None:
        return True  # its events joined a sync already queued for the Account
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


def _sync(
    queued: QueuedMessage,
    message: SyncMessage,
    syncer: AccountSyncer,
    max_receives: int,
    deadline: Deadline,
    coalescing: Coalescing | None,
) -> tuple[int | None, SyncOutcome | None]:
    """(the coalesced events this message covers, the sync's outcome: None when it joined another)."""
    # Taken before anything reads Zoho: events from now on get a sync of their own.
    covered = (
        coalescing.take(message, deadline)
        if coalescing is not None and _coalesces(message, coalescing)
        else None
    )
    account_id = message.account_id or syncer.account_for_contact(str(message.contact_id), deadline)
    if covered is not None and _joined_account(message, account_id, covered, coalescing):
        return covered, None
    request = SyncRequest(
        account_id=account_id,
        trigger=Trigger(message.trigger),
        deadline=deadline,
        run_id=message.run_id,
        final_attempt=queued.receive_count >= max_receives,
    )
    return covered, syncer.sync(request)


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


def _hold_back(queued: QueuedMessage, error: RateLimitedError, hold_back: HoldBack | None) -> None:
    """A rate-limited sync comes back when the limit says (Retry-After), not at the queue's next
    visibility timeout: one receive per wait instead of one per timeout."""
    held = False
    if hold_back is not None and queued.receipt_handle and error.retry_after is not None:
        held = hold_back(queued.receipt_handle, error.retry_after)
    logger.info(
        "sync will be retried",
        extra={
            "message_id": queued.message_id,
            "attempt": queued.receive_count,
            "reason": error.detail,
            "held_back_seconds": round(error.retry_after or 0) if held else None,
        },
    )


def _parse(queued: QueuedMessage) -> SyncMessage | None:
    message = _read(queued.body)
    if message is None:
        logger.error("dropping unreadable queue message", extra={"message_id": queued.message_id})
        return None
    if not message.account_id and not message.contact_id:
        logger.error("dropping queue message without a record id", extra={"message_id": queued.message_id})
        return None
    return message
