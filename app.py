"""Chalice wiring only: routes, queue handlers and middleware. The work is in chalicelib/."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware, Rate, Response

from chalicelib import metrics, tracing
from chalicelib.observability import logger, wire_library_loggers
from chalicelib.portal import portal

app = Chalice(app_name="zoho-xero-sync", configure_logs=False)
app.register_middleware(
    ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)),
    "http",
)
# Every handler: an X-Ray subsegment (chalicelib/tracing.py) and its metrics written when it ends.
app.register_middleware(tracing.trace_invocation, "all")
app.register_middleware(metrics.flush_after, "all")
wire_library_loggers()
app.register_blueprint(portal, url_prefix="/portal")  # the admin portal: chalicelib/portal


def _register_blueprints() -> None:
    from chalicelib.api.admin_runs import admin_runs

    app.register_blueprint(admin_runs)


_register_blueprints()

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Decorator arguments are evaluated where `chalice package` runs, so the queue
# name comes from the deploy shell's environment (default matches .chalice/config.json).
UNEXPECTED = (
    "Something went wrong on our side and the Account was not synced. Please try again in a few "
    "minutes; if it keeps happening, contact support with the time of the click."
)
SYNC_QUEUE_NAME = os.environ.get("SYNC_QUEUE_NAME", "zoho-xero-sync.fifo")
RUNS_QUEUE_NAME = os.environ.get("RUNS_QUEUE_NAME", "zoho-xero-runs")
SYNC_SCHEDULE_HOURS = max(1, int(float(os.environ.get("SYNC_SCHEDULE_HOURS", "4"))))


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": JSON})


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "service": "zoho-xero-sync"}


@app.route("/webhooks/zoho", methods=["POST"], content_types=[JSON, FORM])
def zoho_webhook() -> Response:
    from chalicelib.errors import InvalidRequestError
    from chalicelib.services.webhook import handle_webhook
    from chalicelib.services.webhook_parsing import parse_webhook
    from chalicelib.webhook_auth import MAX_BODY_BYTES, refusal
    from chalicelib.wiring import container

    request = app.current_request
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        return _json(413, {"status": "error", "message": "The request body is larger than 64 KB."})
    services = container()
    refused = refusal(
        raw,
        request.headers,
        services.settings.secret("WEBHOOK_TOKEN"),
        max_age_seconds=services.settings.WEBHOOK_MAX_AGE_SECONDS,
    )
    if refused is not None:
        logger.warning("webhook refused", extra={"reason": refused})
        return _json(401, {"status": "error", "message": refused})
    try:
        webhook = parse_webhook(raw, request.headers.get("content-type", JSON))
    except InvalidRequestError as error:
        return _json(400, {"status": "error", "message": error.message})
    try:
        answer = handle_webhook(
            webhook,
            services.syncer,
            services.queue,
            services.settings.BUTTON_BUDGET_SECONDS,
            coalescing=services.coalescing,
        )
    except Exception:
        logger.exception("webhook failed unexpectedly")
        return _json(500, {"status": "failed", "message": UNEXPECTED})
    return _json(answer.status_code, answer.body)


@app.on_sqs_message(queue=SYNC_QUEUE_NAME, batch_size=10)
def sync_worker(event: Any) -> dict[str, list[dict[str, str]]]:
    """Partial batch response: needs ReportBatchItemFailures on the event source mapping
    (Chalice cannot set it; .chalice/merge-template adds it when packaging)."""
    from chalicelib.services.worker import process_messages
    from chalicelib.wiring import container, lambda_deadline

    services = container()
    records = [record.to_dict() for record in event]
    for record in records:
        metrics.queue_age("sync", record.get("attributes") or {})
    messages = [_queued_message(record) for record in records]
    with logger.append_context_keys(handler="sync_worker"):
        failed = process_messages(
            messages,
            services.syncer,
            max_receives=services.settings.MAX_QUEUE_RECEIVES,
            deadline=lambda: lambda_deadline(event.context),
            before_each=lambda message: logger.set_correlation_id(message.message_id),
            coalescing=services.coalescing,
        )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def _queued_message(record: dict[str, Any]) -> Any:
    from chalicelib.services.worker import QueuedMessage

    attributes = record.get("attributes") or {}
    return QueuedMessage(
        message_id=str(record.get("messageId")),
        body=str(record.get("body", "")),
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
    )


@app.on_sqs_message(queue=RUNS_QUEUE_NAME, batch_size=1)
def run_worker(event: Any) -> dict[str, list[dict[str, str]]]:
    """One plan step or one batch of a bulk run per message (ReportBatchItemFailures, see above)."""
    from chalicelib.run_queue import RunMessage
    from chalicelib.wiring import container, lambda_deadline

    services = container()
    failed: list[str] = []
    for record in event:
        raw = record.to_dict()
        message_id = str(raw.get("messageId"))
        logger.set_correlation_id(message_id)
        metrics.queue_age("runs", raw.get("attributes") or {})
        receives = int((raw.get("attributes") or {}).get("ApproximateReceiveCount", 1))
        try:
            message = RunMessage.model_validate_json(str(raw.get("body", "")))
        except ValueError:
            logger.error("dropping unreadable run message", extra={"message_id": message_id})
            continue
        with (
            logger.append_context_keys(handler="run_worker", run_id=message.run_id),
            tracing.subsegment(f"## run {message.kind}", run_id=message.run_id, message_id=message_id),
        ):
            if not _run_one(services, message, lambda_deadline(event.context), receives):
                failed.append(message_id)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def _run_one(services: Any, message: Any, deadline: Any, receives: int) -> bool:
    from chalicelib.errors import RetriableError

    try:
        services.runs.handle(
            message, deadline, final_attempt=receives >= services.settings.MAX_QUEUE_RECEIVES
        )
    except RetriableError as error:
        logger.info("run work will be retried", extra={"attempt": receives, "reason": error.detail})
        return False
    except Exception:
        logger.exception("run work crashed; it will be retried", extra={"attempt": receives})
        return False
    return True


@app.schedule(Rate(SYNC_SCHEDULE_HOURS, unit=Rate.HOURS))
def scheduled_sync(event: Any) -> dict[str, str]:
    """Every SYNC_SCHEDULE_HOURS: sync what changed since the last run (skipped while one runs)."""
    from chalicelib.models.runs import StartRunRequest
    from chalicelib.services.runs import RunInProgressError
    from chalicelib.wiring import container

    try:
        run = container().runs.start(StartRunRequest(window="since_last_run"), trigger="schedule")
    except RunInProgressError as busy:
        logger.info("scheduled run skipped: another run is in progress", extra={"run_id": busy.run.run_id})
        return {"status": "skipped", "run_id": busy.run.run_id}
    return {"status": "started", "run_id": run.run_id}
