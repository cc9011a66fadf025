"""Connections: the OAuth authorization-code flows for Xero and Zoho CRM."""

from __future__ import annotations

from chalice import Response

from chalicelib.portal import web
from chalicelib.portal.web import PortalRequest, portal

SCOPES = {
    "xero": "Asks Xero for: accounting.contacts, accounting.settings.read, offline_access.",
    "zoho": "Asks Zoho for: Accounts (read and write back), Contacts (read), COQL (read).",
}


@portal.route("/connect", methods=["GET"])
@web.page()
def connections(ctx: PortalRequest) -> Response:
    board = ctx.services.dashboard
    items = [board.connection(p) for p in ("xero", "zoho")]
    return ctx.render("connect.html", connections=items, scopes=SCOPES, error=None, active="connect")
