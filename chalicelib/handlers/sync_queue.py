"""The FIFO sync queue's consumer: each message syncs one Account (chalicelib/services/worker.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from chalicelib import metrics
from chalicelib.observability import logger


def consume(event: Any) -> PartialItemFailureResponse:
    from chalicelib.services.worker import process_records
    from chalicelib.wiring import container, lambda_deadline

    services = container()
    records = [record.to_dict() for record in event]
    for record in records:
        metrics.queue_age("sync", record.get("attributes") or {})
    with logger.append_context_keys(handler="sync_worker"):
        return process_records(
            records,
            services.syncer,
            max_receives=services.settings.MAX_QUEUE_RECEIVES,
            deadline=lambda: lambda_deadline(event.context),
            before_each=lambda message: logger.set_correlation_id(message.message_id),
            coalescing=services.coalescing,
        )
