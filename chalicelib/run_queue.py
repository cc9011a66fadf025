"""The runs queue (SQS standard): plan steps and batches of bulk runs.

A standard queue, not FIFO: batches need no order between them (each Account is
in one batch), and only standard queues allow a per-message delay, which is how
a run waits for Xero's rate limits without keeping a Lambda busy.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

MAX_DELAY_SECONDS = 900  # SQS's per-message maximum
SEND_BATCH = 10  # SQS's SendMessageBatch maximum


class RunMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["plan", "batch"]
    run_id: str
    step: int | None = None  # plan steps
    batch: int | None = None  # batches
    deferrals: int = 0  # times this work was put back to wait for a rate limit


class RunQueue:
    def __init__(
        self,
        sqs_client: Any,
        queue_url: str,
        dead_letter_url: str | None = None,
        *,
        max_delay_seconds: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url
        # A longer wait is several short ones: the message comes back, sees the limit, waits again.
        self.max_delay_seconds = min(MAX_DELAY_SECONDS, max_delay_seconds)

    def send(self, message: RunMessage, delay_seconds: float = 0) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(exclude_none=True),
            DelaySeconds=_delay(min(delay_seconds, self.max_delay_seconds)),
        )

    def send_batches(self, run_id: str, numbers: list[int]) -> None:
        for start in range(0, len(numbers), SEND_BATCH):
            entries = [
                {
                    "Id": str(number),
                    "MessageBody": RunMessage(kind="batch", run_id=run_id, batch=number).model_dump_json(
                        exclude_none=True
                    ),
                }
                for number in numbers[start : start + SEND_BATCH]
            ]
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed = response.get("Failed") or []
            if failed:  # rare (throttling); raising makes the plan step retry and re-send
                raise RuntimeError(f"SQS refused {len(failed)} batch message(s): {failed[0].get('Code')}")

    def dead_letters(self) -> int:
        if not self.dead_letter_url:
            return 0
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.dead_letter_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )


def _delay(seconds: float) -> int:
    if seconds <= 0:
        return 0
    # A little jitter so batches paused together do not all return in the same second.
    return int(min(MAX_DELAY_SECONDS, seconds + random.uniform(0, min(5.0, seconds * 0.1))))
