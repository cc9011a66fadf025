"""The sync queue (SQS FIFO): one message group per Account."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.models.webhook import SyncMessage
from chalicelib.timestamps import iso_seconds

logger = logging.getLogger(__name__)
MAX_VISIBILITY_SECONDS = 43_200  # SQS's longest visibility timeout (12 hours)


class SyncQueue:
    def __init__(
        self, sqs_client: Any, queue_url: str, *, max_hold_seconds: float = MAX_VISIBILITY_SECONDS
    ) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.max_hold_seconds = min(MAX_VISIBILITY_SECONDS, max_hold_seconds)

    def enqueue(self, message: SyncMessage) -> str:
        if message.requested_at is None:
            message = message.model_copy(update={"requested_at": iso_seconds(datetime.now(UTC))})
        response = self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(exclude_none=True),
            MessageGroupId=message.group_id,
            # Every event is its own piece of work; re-syncs are cheap when nothing changed.
            MessageDeduplicationId=str(uuid.uuid4()),
        )
        return str(response["MessageId"])

    def hold_back(self, receipt_handle: str, seconds: float) -> bool:
        """Keep a received message out of sight for `seconds` (a rate limit's Retry-After), so it
        comes back when the limit allows instead of at the queue's next visibility timeout. FIFO
        holds the rest of its group behind it meanwhile. False: SQS refused (e.g. an expired
        receipt); the message then comes back as usual."""
        timeout = math.ceil(min(self.max_hold_seconds, max(0.0, seconds)))
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=timeout
            )
        except Exception as error:  # botocore's ClientError or a connection fault: retry as usual
            logger.warning("could not hold a message back", extra={"reason": type(error).__name__})
            return False
        return True
