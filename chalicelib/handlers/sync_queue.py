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
    xero_failed = _xero(records, services, event)  # Xero's contact events (services/xero_worker.py)
    records = [record for record in records if not _is_xero(record)]
    with logger.append_context_keys(handler="sync_worker"):
        response = process_records(
            records,
            services.syncer,
            max_receives=services.settings.MAX_QUEUE_RECEIVES,
            deadline=lambda: lambda_deadline(event.context),
            before_each=lambda message: logger.set_correlation_id(message.message_id),
            coalescing=services.coalescing,
            hold_back=services.queue.hold_back,
        )
    response["batchItemFailures"] += [{"itemIdentifier": message_id} for message_id in xero_failed]
    return response


def _is_xero(record: dict[str, Any]) -> bool:
    from chalicelib.services.xero_worker import is_xero_record

    return is_xero_record(record)


def _xero(records: list[dict[str, Any]], services: Any, event: Any) -> list[str]:
    from chalicelib.services.xero_worker import process_xero_records
    from chalicelib.wiring import lambda_deadline

    xero_records = [record for record in records if _is_xero(record)]
    if not xero_records:
        return []
    with logger.append_context_keys(handler="sync_worker", source="xero"):
        return process_xero_records(
            xero_records,
            services.xero_inbound,
            lambda: lambda_deadline(event.context),
            hold_back=services.queue.hold_back,
        )
