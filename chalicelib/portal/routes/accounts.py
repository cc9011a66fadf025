"""Accounts: search, one Account's state, timeline and preview, and "Sync now"."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib.portal import web
from chalicelib.portal.web import FORM, PortalRequest, portal

if TYPE_CHECKING:
    from chalicelib.models.sync import HistoryEntry
    from chalicelib.services.preview import Preview
    from chalicelib.services.side_by_side import SideBySideView

logger = logging.getLogger(__name__)

ZOHO_ID = re.compile(r"^[0-9]{1,30}$")
HISTORY_PAGE = 20
SEARCH_SECONDS = 10.0
PREVIEW_SECONDS = 15.0
SYNC_SECONDS = 25.0


@portal.route("/accounts", methods=["GET"])
@web.page()
def account_search(ctx: PortalRequest) -> Response:
    from chalicelib.deadline import Deadline

    text = ctx.query("q").strip()
    hits, error = [], None
    if text:
        try:
            hits = ctx.services.account_search.search(text, Deadline(SEARCH_SECONDS))
        except Exception as problem:
            error = web.plain_message(problem, "Zoho CRM could not be searched just now.")
    return ctx.render("accounts.html", q=text, hits=hits, error=error, searched=bool(text), active="accounts")


@portal.route("/accounts/{account_id}", methods=["GET"])
@web.page()
def account_page(ctx: PortalRequest, account_id: str) -> Response:
    from chalicelib.portal.links import Links

    if not ZOHO_ID.match(account_id):
        return ctx.render(
            "error.html", status=404, title="Not found", message="That is not a Zoho Account id."
        )
    services = ctx.services
    state = services.states.get(account_id)
    cursor = ctx.query("cursor") or None
    page = _history_page(ctx, account_id, cursor)
    if page is None:
        return ctx.redirect(f"/accounts/{account_id}")  # a cursor we did not hand out: the first page
    history, next_cursor = page
    newest = history[0] if history and cursor is None else None
    last_attempt = _latest(
        state.last_attempt_at if state else None,
        state.last_synced_at if state else None,
        newest.at if newest else None,
    )
    preview, preview_error = _preview(ctx, account_id)
    sides, sides_error = _side_by_side(ctx, account_id)
    return ctx.render(
        "account.html",
        account_id=account_id,
        state=state,
        last_attempt=last_attempt,
        history=history,
        next_cursor=next_cursor,
        first_page=cursor is None,
        preview=preview,
        preview_error=preview_error,
        sides=sides,
        sides_error=sides_error,
        links=Links(ctx.settings, services),
        synced=ctx.query("synced") == "1",
        active="accounts",
    )


@portal.route("/accounts/{account_id}/sync", methods=["POST"], content_types=[FORM])
@web.page()
def account_sync(ctx: PortalRequest, account_id: str) -> Response:
    from chalicelib.deadline import Deadline
    from chalicelib.errors import RetriableError
    from chalicelib.models.sync import Trigger
    from chalicelib.services.sync_account import SyncRequest

    if not ZOHO_ID.match(account_id):
        return ctx.render(
            "error.html", status=404, title="Not found", message="That is not a Zoho Account id."
        )
    request = SyncRequest(account_id=account_id, trigger=Trigger.PORTAL, deadline=Deadline(SYNC_SECONDS))
    try:
        ctx.services.syncer.sync(request)
    except RetriableError:
        # Recorded in the timeline (as "retrying"); the page shows it at the top.
        logger.info("portal sync hit a passing fault", extra={"account_id": account_id})
    return ctx.redirect(f"/accounts/{account_id}", synced="1")


def _history_page(
    ctx: PortalRequest, account_id: str, cursor: str | None
) -> tuple[list[HistoryEntry], str | None] | None:
    """One page of the Account's timeline; None when the cursor is not one of ours."""
    from chalicelib.store.errors import InvalidCursorError

    try:
        entries, next_cursor = ctx.services.history.list(account_id, limit=HISTORY_PAGE, cursor=cursor)
    except InvalidCursorError:
        return None
    return once_per_run(entries), next_cursor


def once_per_run(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Drop an entry that repeats the one just before it for the same run. A run's batch that
    SQS hands out twice at once (its visibility ran out while the first delivery was still
    working) records its entries twice; Xero, Zoho and the run's counts see it once, and so
    should the person reading the timeline. A conditional write per entry would cost one request
    per Account instead of one per 25."""
    kept: list[HistoryEntry] = []
    for entry in entries:
        previous = kept[-1] if kept else None
        if previous is not None and entry.run_id is not None and _same_attempt(previous, entry):
            continue
        kept.append(entry)
    return kept


def _same_attempt(a: HistoryEntry, b: HistoryEntry) -> bool:
    return (a.run_id, a.status, a.action, a.message) == (b.run_id, b.status, b.action, b.message)


def _preview(ctx: PortalRequest, account_id: str) -> tuple[Preview | None, str | None]:
    """What a sync would send now, or why that cannot be said."""
    from chalicelib.deadline import Deadline

    try:
        return ctx.services.previewer.preview(account_id, Deadline(PREVIEW_SECONDS)), None
    except Exception as problem:
        return None, web.plain_message(problem, "The preview could not be made just now.")


def _side_by_side(ctx: PortalRequest, account_id: str) -> tuple[SideBySideView | None, str | None]:
    """Zoho, Xero and the last synced values per field, with what the next sync writes each way."""
    from chalicelib.deadline import Deadline
    from chalicelib.services.side_by_side import SideBySide

    services, settings = ctx.services, ctx.settings
    policy = settings.CONFLICT_POLICY if settings.SYNC_MODE == "both" else "zoho_wins"
    compare = SideBySide(
        services.zoho, services.xero, services.states, services.snapshots, services.field_map, lambda: policy
    )
    try:
        return compare.compare(account_id, Deadline(PREVIEW_SECONDS)), None
    except Exception as problem:
        return None, web.plain_message(problem, "Zoho CRM and Xero could not be compared just now.")


def _latest(*moments: str | None) -> str | None:
    """The newest of these times. An unchanged sync writes only a timeline entry (no state),
    so the Account's last attempt is the newest of its state's times and its timeline."""
    from chalicelib.portal.filters import as_datetime

    known = [(as_datetime(m), m) for m in moments if m]
    dated = [(when, m) for when, m in known if when is not None]
    return max(dated)[1] if dated else None
