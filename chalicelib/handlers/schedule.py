"""The schedule: every SYNC_SCHEDULE_HOURS, sync what changed since the last run, in the
direction SYNC_SCHEDULE_DIRECTION says (Zoho CRM → Xero by default)."""

from __future__ import annotations

from chalicelib.observability import logger


def scheduled_sync() -> dict[str, str]:
    """Starts a `since_last_run` run; skipped while another run is in progress."""
    from chalicelib.models.runs import StartRunRequest
    from chalicelib.services.runs import RunInProgressError
    from chalicelib.wiring import container

    services = container()
    request = StartRunRequest(window="since_last_run", direction=services.settings.SYNC_SCHEDULE_DIRECTION)
    try:
        run = services.runs.start(request, trigger="schedule")
    except RunInProgressError as busy:
        logger.info("scheduled run skipped: another run is in progress", extra={"run_id": busy.run.run_id})
        return {"status": "skipped", "run_id": busy.run.run_id}
    return {"status": "started", "run_id": run.run_id}
