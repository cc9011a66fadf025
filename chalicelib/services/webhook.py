"""Use case: answer a Zoho webhook.

A workflow rule fires on every save, so it is acknowledged at once (202) and
synced from the queue; a burst of saves on one record waits for one sync
(chalicelib/services/coalescing.py). A button click waits for the result, within a budget
well under Deluge's 40-second `invokeurl` timeout; if the budget runs out the
work continues from the queue and the user is told so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import (
    DeadlineExceededError,
    FatalError,
    RateLimitedError,
    RejectedError,
    RetriableError,
)
from chalicelib.models.sync import SyncOutcome, SyncStatus, Trigger
from chalicelib.models.webhook import SyncMessage, WebhookRequest
from chalicelib.services.coalescing import Coalescing
from chalicelib.services.sync_account import AccountSyncer, SyncRequest

logger = logging.getLogger(__name__)

QUEUED_MESSAGE = "Queued: the Account will be synced to Xero in the background within a minute or two."


class Queue(Protocol):
    def enqueue(self, message: SyncMessage) -> str: ...


@dataclass
class WebhookAnswer:
    status_code: int
    body: dict[str, Any]


def handle_webhook(
    request: WebhookRequest,
    syncer: AccountSyncer,
    queue: Queue,
    budget: float,
    coalescing: Coalescing | None = None,
) -> WebhookAnswer:
    if request.source == "workflow":
        message = SyncMessage(
            account_id=request.account_id, contact_id=request.contact_id, trigger="workflow"
        )
        if coalescing is None:
            queue.enqueue(message)
        else:
            coalescing.queue_event(message, queue)
        return WebhookAnswer(202, {"status": "queued", "message": QUEUED_MESSAGE})
    started = time.monotonic()
    answer = _sync_now(request, syncer, queue, Deadline(budget))
    metrics.click_answered(time.monotonic() - started)
    return answer


def _sync_now(
    request: WebhookRequest, syncer: AccountSyncer, queue: Queue, deadline: Deadline
) -> WebhookAnswer:
    account_id = request.account_id
    try:
        if account_id is None:
            account_id = syncer.account_for_contact(str(request.contact_id), deadline)
        outcome = syncer.sync(SyncRequest(account_id=account_id, trigger=Trigger.BUTTON, deadline=deadline))
    except RejectedError as error:  # only from resolving a contact's Account
        return WebhookAnswer(422, {"status": "rejected", "message": error.message})
    except FatalError as error:  # only from resolving a contact's Account (e.g. Zoho disconnected)
        return WebhookAnswer(502, {"status": "failed", "message": error.message})
    except RetriableError as error:
        return _queue_after_fault(request, account_id, queue, error)
    if outcome.writeback_pending:
        queue.enqueue(SyncMessage(account_id=account_id, trigger="button"))
    return WebhookAnswer(_status_code(outcome), outcome.to_response())


def _status_code(outcome: SyncOutcome) -> int:
    if outcome.status is SyncStatus.SYNCED:
        return 200
    if outcome.status in (SyncStatus.REJECTED, SyncStatus.ARCHIVED):
        return 422
    return 502  # failed for a reason a person must fix (connection, settings)


def _queue_after_fault(
    request: WebhookRequest, account_id: str | None, queue: Queue, error: RetriableError
) -> WebhookAnswer:
    queue.enqueue(SyncMessage(account_id=account_id, contact_id=request.contact_id, trigger="button"))
    logger.info("button sync queued after a passing fault", extra={"reason": error.detail})
    if isinstance(error, DeadlineExceededError):
        return WebhookAnswer(202, {"status": "queued", "message": QUEUED_MESSAGE})
    if isinstance(error, RateLimitedError):
        return WebhookAnswer(
            202,
            {
                "status": "queued",
                "message": "Xero is busy (rate limit reached). The sync was queued and will finish "
                "automatically as soon as Xero allows.",
            },
        )
    return WebhookAnswer(
        503,
        {"status": "failed", "message": f"Not synced yet: {error.message}"},
    )
