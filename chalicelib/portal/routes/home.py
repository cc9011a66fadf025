"""The dashboard."""

from __future__ import annotations

import os
from typing import Any

from chalice import Response

from chalicelib.portal import web
from chalicelib.portal.web import PortalRequest, portal


@portal.route("/", methods=["GET"])
@web.page()
def dashboard(ctx: PortalRequest) -> Response:
    board = ctx.services.dashboard.build()
    return ctx.render(
        "dashboard.html", board=board, schedule_hours=schedule_hours(ctx.settings), active="dashboard"
    )


def schedule_hours(settings: Any) -> float:
    """The schedule's interval (SYNC_SCHEDULE_HOURS, default 4), as the scheduled handler reads it."""
    configured = getattr(settings, "SYNC_SCHEDULE_HOURS", None)
    try:
        value = float(configured if configured is not None else os.environ.get("SYNC_SCHEDULE_HOURS", "4"))
    except ValueError:
        return 4.0
    return max(1.0, value)
