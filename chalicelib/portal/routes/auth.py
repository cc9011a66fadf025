"""Sign in and sign out."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.portal import web
from chalicelib.portal.security import PasswordConfigError, Session, check_credential
from chalicelib.portal.sessions import (
    SIGNIN_COOKIE,
    cleared_cookie,
    read_cookies,
    same_origin,
    session_cookie,
)
from chalicelib.portal.web import FORM, PortalRequest, portal

if TYPE_CHECKING:  # the store (and botocore) load only when a sign-in is checked
    from chalicelib.models.portal import ThrottleVerdict
    from chalicelib.store.portal_settings import SignInThrottle

logger = logging.getLogger(__name__)

NO_CREDENTIAL = (
    "The portal has no password yet. Set ADMIN_PASSWORD_HASH (make one with "
    "`python -m chalicelib.portal.hash_password`) or ADMIN_TOKEN in the service's settings."
)


@portal.route("/signin", methods=["GET"])
def signin_form() -> Response:
    ctx = web._context(portal.current_request)
    if ctx.session is not None:
        return web.redirect(web.safe_next(ctx.request, ctx.query("next")))
    return _form(ctx)


@portal.route("/signin", methods=["POST"], content_types=[FORM])
def signin() -> Response:
    ctx = web._context(portal.current_request)
    services = ctx.services
    if ctx.signers is None:
        return _form(ctx, status=503, error=NO_CREDENTIAL)
    pre = ctx.signers.signin.loads(read_cookies(ctx.request).get(SIGNIN_COOKIE))
    if pre is None or not pre.csrf_matches(ctx.form.get("csrf_token")) or not same_origin(ctx.request):
        return _form(ctx, status=403, error="The sign-in form expired. Please enter your password again.")
    address = _address(ctx.request)
    settings = ctx.settings
    password = ctx.form.get("password", "")
    try:
        outcome = attempt_sign_in(
            services.signin_throttle,
            address,
            lambda: check_credential(
                password,
                password_hash=settings.secret("ADMIN_PASSWORD_HASH"),
                admin_token=settings.secret("ADMIN_TOKEN"),
            ),
        )
    except PasswordConfigError as error:
        return _form(ctx, status=503, error=str(error))
    if not isinstance(outcome, bool):  # the throttle's refusal
        minutes = max(1, math.ceil(outcome.retry_after_seconds / 60))
        return _form(
            ctx,
            status=429,
            error=f"Too many wrong passwords. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
        )
    if not outcome:
        logger.warning("portal sign-in refused: wrong password")
        return _form(ctx, status=401, error="That password is not right. Check it and try again.")
    session = Session.new(lifetime_seconds=settings.PORTAL_SESSION_HOURS * 3600)
    logger.info("portal sign-in")
    cookies = [
        session_cookie(ctx.signers.session.dumps(session), session.expires_at - time.time()),
        cleared_cookie(SIGNIN_COOKIE),
    ]
    return web.redirect(web.safe_next(ctx.request, ctx.form.get("next")), cookies)


@portal.route("/signout", methods=["POST"], content_types=[FORM])
@web.page()
def signout(ctx: PortalRequest) -> Response:
    assert ctx.session is not None
    ctx.services.portal_sessions.revoke(ctx.session.sid, ctx.session.expires_at)
    return web.redirect(ctx.url("/signin", notice="signed-out"), [cleared_cookie()])


def attempt_sign_in(
    throttle: SignInThrottle, address: str, password_is_right: Callable[[], bool]
) -> bool | ThrottleVerdict:
    """Count the attempt first (atomically), then check the password: True, False, or the
    throttle's refusal (a ThrottleVerdict) when this address has used up its attempts."""
    verdict = throttle.attempt(address)
    if not verdict.allowed:
        return verdict
    try:
        right = password_is_right()
    except Exception:
        throttle.succeeded(address)  # a configuration problem is not a guess
        raise
    if right:
        throttle.succeeded(address)
    return right


def _form(ctx: PortalRequest, status: int = 200, error: str | None = None) -> Response:
    """The sign-in page with a fresh pre-session CSRF token in its own short-lived cookie."""
    if ctx.signers is None:
        return ctx.render(
            "signin.html",
            status=503 if status == 200 else status,
            error=error or NO_CREDENTIAL,
            next="",
            csrf_token="",
            disabled=True,
        )
    pre = Session.new(lifetime_seconds=web.SIGNIN_FORM_SECONDS)
    ctx.set_cookies.append(
        session_cookie(
            ctx.signers.signin.dumps(pre), web.SIGNIN_FORM_SECONDS, name=SIGNIN_COOKIE, same_site="Strict"
        )
    )
    target = ctx.form.get("next") or ctx.query("next")
    return ctx.render(
        "signin.html",
        status=status,
        error=error,
        next=web.safe_next(ctx.request, target),
        csrf_token=pre.csrf,
        disabled=False,
    )


def _address(request: Any) -> str:
    # API Gateway's view of the caller; unlike X-Forwarded-For it cannot be set by the client.
    return str(((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown")
