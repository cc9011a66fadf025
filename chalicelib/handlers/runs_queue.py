"""The runs queue's consumer: one plan step or one batch of a bulk run per message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import metrics, tracing
from chalicelib.observability import logger

if TYPE_CHECKING:  # imported when a message comes, not at cold start
    from chalicelib.deadline import Deadline
    from chalicelib.run_queue import RunMessage
    from chalicelib.wiring import Container


class RetryLater(Exception):
    """The run's work comes back later: the processor reports the message for redelivery."""


def consume(event: Any) -> PartialItemFailureResponse:
    from chalicelib.wiring import container, lambda_deadline

    services = container()

    def handle(record: SQSRecord) -> None:
        _handle(services, record, lambda_deadline(event.context))

    # An answer, not an exception, when the whole batch fails (the usual case at one message
    # per batch): SQS redelivers the failed messages either way.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    with processor([record.to_dict() for record in event], handle):
        processor.process()
    return processor.response()


def _handle(services: Container, record: SQSRecord, deadline: Deadline) -> None:
    from chalicelib.run_queue import RunMessage

    logger.set_correlation_id(record.message_id)
    metrics.queue_age("runs", record.raw_event.get("attributes") or {})
    try:
        message = RunMessage.model_validate_json(record.body)
    except ValueError:
        logger.error("dropping unreadable run message", extra={"message_id": record.message_id})
        return
    receives = int(record.attributes.approximate_receive_count or 1)
    with (
        logger.append_context_keys(handler="run_worker", run_id=message.run_id),
        tracing.subsegment(f"## run {message.kind}", run_id=message.run_id, message_id=record.message_id),
    ):
        _run_one(services, message, deadline, receives)


def _run_one(services: Container, message: RunMessage, deadline: Deadline, receives: int) -> None:
    from chalicelib.errors import RetriableError

    try:
        services.runs.handle(
            message, deadline, final_attempt=receives >= services.settings.MAX_QUEUE_RECEIVES
        )
    except RetriableError as error:
        logger.info("run work will be retried", extra={"attempt": receives, "reason": error.detail})
        raise RetryLater(error.detail) from None
    except Exception as crash:
        logger.exception("run work crashed; it will be retried", extra={"attempt": receives})
        raise RetryLater("crashed") from crash
