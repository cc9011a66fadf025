"""The sync queue (SQS FIFO): one message group per Account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.models.webhook import SyncMessage
from chalicelib.timestamps import iso_seconds


class SyncQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url

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
