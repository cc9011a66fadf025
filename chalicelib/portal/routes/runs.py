"""Manual Sync, the run history, one run's page (live progress, problems, retry)."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Response

from chalicelib.portal import web
from chalicelib.portal.web import FORM, PortalRequest, portal

RUN_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
PAGE_SIZE = 20
PROBLEMS_PAGE = 50
WINDOWS = ("since_last_run", "days", "all")


# --- Manual Sync -----------------------------------------------------------------------------


@portal.route("/sync", methods=["GET"])
@web.page()
def sync_form(ctx: PortalRequest) -> Response:
    return _sync_page(ctx, {"window": "since_last_run", "days": "7", "dry_run": ""})


@portal.route("/sync", methods=["POST"], content_types=[FORM])
@web.page()
def sync_start(ctx: PortalRequest) -> Response:
    from chalicelib.models.runs import StartRunRequest

    runs = _runs(ctx)
    if runs is None:
        return _unavailable(ctx)
    values = {k: ctx.form.get(k, "") for k in ("window", "days", "dry_run", "module", "direction")}
    try:
        request = StartRunRequest.model_validate(_run_body(values))
    except ValueError as error:
        return _sync_page(ctx, values, error=_plain_error(error), status=400)
    try:
        run = runs.start(request, trigger="portal")
    except Exception as error:
        in_progress = getattr(error, "run", None)
        if in_progress is None:
            raise
        return ctx.redirect(f"/runs/{in_progress.run_id}", notice="run-in-progress")
    return ctx.redirect(f"/runs/{run.run_id}")


def _run_body(values: dict[str, str]) -> dict[str, Any]:
    window = values.get("window") or "since_last_run"
    if window not in WINDOWS:
        raise ValueError("Choose which Accounts to sync.")
    body: dict[str, Any] = {"dry_run": values.get("dry_run") in ("1", "on", "true")}
    if values.get("direction"):
        body["direction"] = values["direction"]
    if window == "days":
        days = (values.get("days") or "").strip()
        if not days.isdigit() or not 1 <= int(days) <= 30:
            raise ValueError("Enter a number of days from 1 to 30.")
        body["window"] = {"days": int(days)}
    else:
        body["window"] = window
    return body


def _plain_error(error: ValueError) -> str:
    text = str(error)
    if "days" in text.lower():
        return "Enter a number of days from 1 to 30."
    if "direction" in text.lower():
        return "Choose a direction: Zoho CRM → Xero, Xero → Zoho CRM, or both ways."
    return text.splitlines()[0] if text else "The form could not be read; check it and try again."


def _sync_page(
    ctx: PortalRequest, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    runs = _runs(ctx)
    active = None
    if runs is not None:
        recent, _ = runs.list(limit=5)
        active = next((r for r in recent if not r.state.finished), None)
    return ctx.render(
        "sync.html",
        status=status,
        values=values,
        error=error,
        active_run=active,
        available=runs is not None,
        active="sync",
    )


# --- history ------------------------------------------------------------------------------


@portal.route("/runs", methods=["GET"])
@web.page()
def run_list(ctx: PortalRequest) -> Response:
    runs = _runs(ctx)
    if runs is None:
        return _unavailable(ctx)
    cursor = ctx.query("cursor") or None
    try:
        items, next_cursor = runs.list(limit=PAGE_SIZE, cursor=cursor)
    except Exception as error:
        if type(error).__name__ != "InvalidCursorError":
            raise
        return ctx.redirect("/runs")
    return ctx.render(
        "runs.html", runs=items, next_cursor=next_cursor, first_page=cursor is None, active="runs"
    )


@portal.route("/runs/{run_id}", methods=["GET"])
@web.page()
def run_page(ctx: PortalRequest, run_id: str) -> Response:
    runs = _runs(ctx)
    if runs is None:
        return _unavailable(ctx)
    run = runs.get(run_id) if RUN_ID.match(run_id) else None
    if run is None:
        return _not_found(ctx, f"There is no run {run_id}.")
    cursor = ctx.query("cursor") or None
    try:
        problems, next_cursor = runs.accounts(run_id, problems_only=True, limit=PROBLEMS_PAGE, cursor=cursor)
    except Exception as error:
        if type(error).__name__ != "InvalidCursorError":
            raise
        return ctx.redirect(f"/runs/{run_id}")
    return ctx.render(
        "run.html",
        run=run,
        public=run.to_public(),
        problems=problems,
        next_cursor=next_cursor,
        links=_links(ctx),
        retryable=run.state.finished and (run.counts.get("failed", 0) + run.counts.get("rejected", 0)) > 0,
        active="runs",
    )


@portal.route("/runs/{run_id}/retry", methods=["POST"], content_types=[FORM])
@web.page()
def run_retry(ctx: PortalRequest, run_id: str) -> Response:
    from chalicelib.errors import InvalidRequestError

    runs = _runs(ctx)
    if runs is None:
        return _unavailable(ctx)
    if not RUN_ID.match(run_id):
        return _not_found(ctx, f"There is no run {run_id}.")
    try:
        run = runs.retry(run_id, trigger="portal")
    except InvalidRequestError:
        return ctx.redirect(f"/runs/{run_id}", notice="nothing-to-retry")
    except Exception as error:
        in_progress = getattr(error, "run", None)
        if in_progress is not None:
            return ctx.redirect(f"/runs/{in_progress.run_id}", notice="run-in-progress")
        if type(error).__name__ == "RunNotFoundError":
            return _not_found(ctx, f"There is no run {run_id}.")
        raise
    return ctx.redirect(f"/runs/{run.run_id}")


@portal.route("/api/runs/{run_id}", methods=["GET"])
@web.api()
def run_progress(ctx: PortalRequest, run_id: str) -> Any:
    """Live progress for the run page (polled by portal.js)."""
    runs = _runs(ctx)
    run = runs.get(run_id) if runs is not None and RUN_ID.match(run_id) else None
    if run is None:
        return web.json_response(404, {"message": f"There is no run {run_id}."})
    body = run.to_public()
    body["finished"] = run.state.finished
    return body


# --- helpers ------------------------------------------------------------------------------


def _runs(ctx: PortalRequest) -> Any:
    """The RunService, or None in a build without bulk runs."""
    try:
        return ctx.services.runs
    except (AttributeError, ImportError):
        return None


def _links(ctx: PortalRequest) -> Any:
    from chalicelib.portal.links import Links

    return Links(ctx.settings, ctx.services)


def _unavailable(ctx: PortalRequest) -> Response:
    return ctx.render(
        "error.html",
        status=503,
        title="Runs are not available",
        message="This installation cannot start bulk runs yet.",
    )


def _not_found(ctx: PortalRequest, message: str) -> Response:
    return ctx.render("error.html", status=404, title="Not found", message=message)
