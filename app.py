"""Chalice decorators only: routes, queue handlers, schedule and middleware. The work is in chalicelib/."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from chalice.app import Chalice, ConvertToMiddleware, Rate, Response

from chalicelib import metrics, tracing
from chalicelib.handlers import runs_queue, schedule, sync_queue, webhook, xero_webhook, zoho_deletions
from chalicelib.handlers.admin_runs import admin_runs
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
app.register_blueprint(admin_runs)  # the admin API for bulk runs: chalicelib/handlers/admin_runs.py

# Decorator arguments are evaluated where `chalice package` runs, so the queue
# name comes from the deploy shell's environment (default matches .chalice/config.json).
SYNC_QUEUE_NAME = os.environ.get("SYNC_QUEUE_NAME", "zoho-xero-sync.fifo")
RUNS_QUEUE_NAME = os.environ.get("RUNS_QUEUE_NAME", "zoho-xero-runs")
SYNC_SCHEDULE_HOURS = max(1, int(float(os.environ.get("SYNC_SCHEDULE_HOURS", "4"))))


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "service": "zoho-xero-sync"}


@app.route("/webhooks/zoho", methods=["POST"], content_types=[webhook.JSON, webhook.FORM])
def zoho_webhook() -> Response:
    return webhook.zoho_webhook(app.current_request)  # type: ignore[arg-type]  # set for every route


@app.route("/webhooks/xero", methods=["POST"], content_types=[webhook.JSON])
def xero_events() -> Response:
    """Xero's signed contact events: 200/401 with an empty body, the work queued (Xero → Zoho CRM)."""
    return xero_webhook.xero_webhook(app.current_request)  # type: ignore[arg-type]  # set for every route


@app.on_sqs_message(queue=SYNC_QUEUE_NAME, batch_size=10)
def sync_worker(event: Any) -> Any:
    """Partial batch response: needs ReportBatchItemFailures on the event source mapping
    (Chalice cannot set it; .chalice/merge-template adds it when packaging)."""
    return sync_queue.consume(event)


@app.on_sqs_message(queue=RUNS_QUEUE_NAME, batch_size=1)
def run_worker(event: Any) -> Any:
    """One plan step or one batch of a bulk run per message (ReportBatchItemFailures, see above)."""
    return runs_queue.consume(event)


@app.schedule(Rate(SYNC_SCHEDULE_HOURS, unit=Rate.HOURS))
def scheduled_sync(event: Any) -> dict[str, str]:
    """Every SYNC_SCHEDULE_HOURS: sync what changed since the last run (skipped while one runs)."""
    return schedule.scheduled_sync()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def poll_zoho_deletions(event: Any) -> dict[str, Any]:
    """Every minute: Accounts deleted in Zoho CRM → their Xero contacts archived (ARCHIVE_ON_ZOHO_DELETE)."""
    return zoho_deletions.poll_zoho_deletions(getattr(event, "context", None))
