"""Conflicts: the fields Both Way held (CONFLICT_POLICY=hold), each with "keep Zoho's" and
"keep Xero's", applied at once (services/conflicts.py)."""

from __future__ import annotations

import logging

from chalice.app import Response

from chalicelib.errors import RetriableError
from chalicelib.models.webhook import ZOHO_ID
from chalicelib.portal import web
from chalicelib.portal.web import FORM, PortalRequest, portal

logger = logging.getLogger(__name__)
RESOLVE_SECONDS = 20.0
CHOICES = {"zoho": "zoho", "xero": "xero"}


@portal.route("/conflicts", methods=["GET"])
@web.page()
def conflicts_page(ctx: PortalRequest) -> Response:
    return _page(ctx)


@portal.route("/conflicts/{account_id}", methods=["POST"], content_types=[FORM])
@web.page()
def resolve_conflict(ctx: PortalRequest, account_id: str) -> Response:
    from chalicelib.deadline import Deadline
    from chalicelib.services.sync.merge import Resolution

    key = ctx.form.get("key", "")
    keep = CHOICES.get(ctx.form.get("keep", ""))
    if not ZOHO_ID.match(account_id) or not key or len(key) > 200 or keep is None:
        return _page(ctx, error="Choose Zoho CRM's or Xero's value for one of the fields below.", status=400)
    try:
        message = ctx.services.conflict_resolver.resolve(
            account_id, key, Resolution(keep), Deadline(RESOLVE_SECONDS)
        )
    except Exception as problem:
        # A busy Account is expected (the person tries again); anything else is worth a trace.
        busy = isinstance(problem, RetriableError)
        logger.log(
            logging.INFO if busy else logging.WARNING,
            "conflict not resolved",
            extra={"account_id": account_id},
            exc_info=not busy,
        )
        return _page(
            ctx, error=web.plain_message(problem, "The choice could not be applied just now."), status=409
        )
    return _page(ctx, notice=message)


def _page(
    ctx: PortalRequest, error: str | None = None, notice: str | None = None, status: int = 200
) -> Response:
    settings = ctx.settings
    return ctx.render(
        "conflicts.html",
        status=status,
        conflicts=ctx.services.conflict_resolver.held(),
        error=error,
        done=notice,
        policy=settings.CONFLICT_POLICY,
        mode=settings.SYNC_MODE,
        active="conflicts",
    )
