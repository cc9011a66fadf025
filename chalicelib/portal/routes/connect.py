"""Connections: the OAuth authorization-code flows for Xero and Zoho CRM.

The flow itself (authorize URL, code exchange, storing the tokens where the service reads
them, choosing a Xero organisation) is `chalicelib.services.connect.Connector`; this module
binds it to the browser: the `state` lives in its own signed cookie (bound to the session's
id) and in the state table, so a callback is only accepted in the session that started it,
for the provider it started, within ten minutes, and once.
"""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Response

from chalicelib.portal import sessions, web
from chalicelib.portal.security import OAUTH_STATE_SECONDS
from chalicelib.portal.web import FORM, PortalRequest, portal

logger = logging.getLogger(__name__)

PROVIDERS = ("xero", "zoho")
LABELS = {"xero": "Xero", "zoho": "Zoho CRM"}
SCOPES = {
    "xero": "Asks Xero for: contacts (read and write), organisation details (read), offline access.",
    "zoho": "Asks Zoho for: Accounts (read and write back the sync result), Contacts (read), COQL (read).",
}


@portal.route("/connect", methods=["GET"])
@web.page()
def connections(ctx: PortalRequest) -> Response:
    return _page(ctx)


@portal.route("/connect/{provider}", methods=["POST"], content_types=[FORM])
@web.page()
def connect_start(ctx: PortalRequest, provider: str) -> Response:
    from chalicelib.portal.security import OAuthState

    if provider not in PROVIDERS or ctx.session is None or ctx.signers is None:
        return _page(ctx, error="Choose Xero or Zoho CRM to connect.", status=404)
    attempt = OAuthState.new(provider, ctx.session.sid)
    try:
        target = ctx.services.connector.authorization_url(
            provider, _redirect_uri(ctx, provider), attempt.state
        )
    except Exception as problem:
        return _page(
            ctx,
            error=web.plain_message(problem, f"Connecting {LABELS[provider]} could not start."),
            status=502,
        )
    ctx.services.oauth_states.remember(attempt.state, provider, attempt.sid, attempt.expires_at)
    ctx.set_cookies.append(
        sessions.session_cookie(
            ctx.signers.oauth.dumps(attempt), OAUTH_STATE_SECONDS, name=sessions.OAUTH_COOKIE
        )
    )
    return web.redirect(target, ctx.set_cookies)


@portal.route("/connect/{provider}/callback", methods=["GET"])
@web.page()
def connect_callback(ctx: PortalRequest, provider: str) -> Response:
    from chalicelib.services.connect import ConnectError, UntrustedServerError, code_from_callback

    session = ctx.session
    if provider not in PROVIDERS or session is None or ctx.signers is None:
        return _page(ctx, error="That is not a connection this portal makes.", status=404)
    params = {k: ctx.query(k) for k in ("code", "state", "error", "accounts-server")}
    attempt = ctx.signers.oauth.loads(sessions.read_cookies(ctx.request).get(sessions.OAUTH_COOKIE))
    ctx.set_cookies.append(sessions.cleared_cookie(sessions.OAUTH_COOKIE))
    # The state must be in this browser's OAuth cookie (for this provider and session, within
    # ten minutes) *and* still stored server-side, where it is consumed: a replayed callback
    # finds it gone whatever cookie it carries.
    if attempt is None or not attempt.matches(provider, params["state"], session.sid):
        return ctx.redirect("/connect", notice="connect-expired")
    if not ctx.services.oauth_states.consume(attempt.state, provider, session.sid):
        return ctx.redirect("/connect", notice="connect-expired")
    try:
        code = code_from_callback(params, attempt.state)
    except ConnectError:
        return ctx.redirect("/connect", notice="connect-cancelled")
    try:
        result = ctx.services.connector.complete(
            provider, code, _redirect_uri(ctx, provider), accounts_server=params["accounts-server"] or None
        )
    except Exception as problem:
        status = 400 if isinstance(problem, UntrustedServerError) else 502  # its own input, or upstream
        return _page(
            ctx,
            error=web.plain_message(problem, f"{LABELS[provider]} could not be connected."),
            status=status,
        )
    logger.info("connected through the portal", extra={"provider": provider})
    if result.needs_choice:
        return _tenant_page(ctx, result.tenants)
    return _page(ctx, success=result.message, warnings=result.warnings, clean_url=True)


@portal.route("/xero-organisation", methods=["GET"])
@web.page()
def choose_organisation_form(ctx: PortalRequest) -> Response:
    from chalicelib.deadline import Deadline

    services = ctx.services
    try:
        token_set = services.xero_tokens.current(Deadline(10.0))
        connections = services.xero_identity.connections(token_set.access_token or "", Deadline(10.0))
    except Exception as problem:
        return _page(
            ctx, error=web.plain_message(problem, "The Xero organisations could not be listed."), status=502
        )
    return _tenant_page(ctx, [_tenant(c) for c in connections if c.get("tenantType") == "ORGANISATION"])


@portal.route("/xero-organisation", methods=["POST"], content_types=[FORM])
@web.page()
def choose_organisation(ctx: PortalRequest) -> Response:
    tenant_id = ctx.form.get("tenant_id", "").strip()
    if not tenant_id:
        return _page(ctx, error="Choose an organisation.", status=400)
    try:
        result = ctx.services.connector.choose_tenant(tenant_id)
    except Exception as problem:
        return _page(
            ctx, error=web.plain_message(problem, "The organisation could not be chosen."), status=400
        )
    return _page(ctx, success=result.message, warnings=result.warnings)


# --- helpers ------------------------------------------------------------------------------


def _redirect_uri(ctx: PortalRequest, provider: str) -> str:
    """Registered with the Xero/Zoho app: <base>/portal/connect/<provider>/callback."""
    return ctx.absolute_url(f"/connect/{provider}/callback")


def _page(
    ctx: PortalRequest,
    *,
    error: str | None = None,
    success: str | None = None,
    warnings: list[str] | None = None,
    clean_url: bool = False,
    status: int = 200,
) -> Response:
    board = ctx.services.dashboard
    return ctx.render(
        "connect.html",
        status=status,
        connections=[board.connection(p) for p in PROVIDERS],
        scopes=SCOPES,
        error=error,
        success=success,
        warnings=warnings or [],
        clean_url=ctx.url("/connect") if clean_url else "",
        callback_urls={p: _redirect_uri(ctx, p) for p in PROVIDERS},
        active="connect",
    )


def _tenant_page(ctx: PortalRequest, tenants: list[Any]) -> Response:
    return ctx.render("choose_tenant.html", tenants=tenants, error=None, active="connect")


def _tenant(connection: dict[str, Any]) -> Any:
    from chalicelib.models.connect import Tenant

    tenant_id = str(connection.get("tenantId"))
    return Tenant(tenant_id, str(connection.get("tenantName") or tenant_id))
