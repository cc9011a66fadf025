"""Xero's contact events on the sync queue (the same SQS FIFO queue as Zoho's events).

One message per changed contact, in its own message group (`xero-<ContactID>`), so events of
one contact are handled in order and never side by side, while different contacts proceed in
parallel. SQS drops a copy of an event Xero redelivers within five minutes (the deduplication
id is the event itself); a later copy finds nothing left to do (services/xero_inbound/).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.xero.webhooks import XeroEvent

KIND = "xero_contact"
SEND_BATCH = 10  # SQS's SendMessageBatch maximum


class XeroContactMessage(BaseModel):
    """Sync this Xero contact into Zoho CRM."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["xero_contact"] = "xero_contact"
    tenant_id: str
    contact_id: str
    event_type: str = "UPDATE"
    event_date: str = ""
    run_id: str | None = None

    @property
    def group_id(self) -> str:
        return f"xero-{self.contact_id}"

    @property
    def deduplication_id(self) -> str:
        text = f"{self.tenant_id}|{self.contact_id}|{self.event_type}|{self.event_date}"
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_event(cls, event: XeroEvent) -> XeroContactMessage:
        return cls(
            tenant_id=event.tenant_id,
            contact_id=event.resource_id,
            event_type=event.event_type,
            event_date=event.event_date,
        )


def read_message(body: str) -> XeroContactMessage | None:
    """The Xero message in a queue body, or None when the body is something else (Zoho's)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    try:
        return XeroContactMessage.model_validate(data)
    except ValidationError:
        return None


def enqueue_contacts(sqs: Any, queue_url: str, messages: list[XeroContactMessage]) -> int:
    """Send the messages, ten per SendMessageBatch call; raises when any could not be queued
    (the webhook then answers 5xx and Xero delivers again)."""
    unique = list({m.deduplication_id: m for m in messages}.values())
    for start in range(0, len(unique), SEND_BATCH):
        chunk = unique[start : start + SEND_BATCH]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": m.model_dump_json(exclude_none=True),
                    "MessageGroupId": m.group_id,
                    "MessageDeduplicationId": m.deduplication_id,
                }
                for i, m in enumerate(chunk)
            ],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} Xero events could not be queued")
    return len(unique)
