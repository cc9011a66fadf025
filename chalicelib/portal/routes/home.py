"""The dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib.portal import web
from chalicelib.portal.web import PortalRequest, portal

if TYPE_CHECKING:
    from chalicelib.settings import Settings


@portal.route("/", methods=["GET"])
@web.page()
def dashboard(ctx: PortalRequest) -> Response:
    board = ctx.services.dashboard.build()
    return ctx.render(
        "dashboard.html", board=board, schedule_hours=schedule_hours(ctx.settings), active="dashboard"
    )


def schedule_hours(settings: Settings) -> float:
    """The schedule's interval (SYNC_SCHEDULE_HOURS, default 4), as the scheduled handler reads it."""
    return float(settings.SYNC_SCHEDULE_HOURS)
