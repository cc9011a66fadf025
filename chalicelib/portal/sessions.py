"""The portal's cookies and sessions, and what else a request carries (its form, its origin)."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from chalicelib.portal.security import Session, Signers, session_key

SESSION_COOKIE = "portal_session"
SIGNIN_COOKIE = "portal_signin"  # the sign-in form's own CSRF token, before any session exists
OAUTH_COOKIE = "portal_oauth"  # one connect attempt's state, bound to the session that started it
MAX_FORM_BYTES = 64 * 1024


def read_cookies(request: Any) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def session_cookie(value: str, max_age: float, name: str = SESSION_COOKIE, same_site: str = "Lax") -> str:
    # Lax, not Strict: the OAuth callback is a top-level redirect from Xero/Zoho, and the
    # session (with its OAuth state) must come along. Every state change is a POST with a
    # CSRF token, so Lax adds no exposure. Path=/ because a deployed stage prefixes the path.
    age = max(0, round(max_age))
    return f"{name}={value}; Path=/; Max-Age={age}; HttpOnly; Secure; SameSite={same_site}"


def cleared_cookie(name: str = SESSION_COOKIE) -> str:
    return f"{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"


def signers_for(settings: Any) -> Signers | None:
    key = session_key(
        session_secret=settings.secret("SESSION_SECRET"),
        password_hash=settings.secret("ADMIN_PASSWORD_HASH"),
        admin_token=settings.secret("ADMIN_TOKEN"),
    )
    return Signers.from_key(key) if key else None


def load_session(
    request: Any, settings: Any, revoked: Callable[[str], bool]
) -> tuple[Session | None, Signers | None]:
    signers = signers_for(settings)
    if signers is None:
        return None, None
    # Only the session signer reads the session cookie: a sign-in or OAuth cookie copied
    # into portal_session fails its purpose check.
    session = signers.session.loads(read_cookies(request).get(SESSION_COOKIE))
    if session is not None and revoked(session.sid):
        session = None
    return session, signers


def parse_form(request: Any) -> dict[str, str]:
    raw = request.raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        return {}
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def same_origin(request: Any) -> bool:
    """A browser's Origin header, when sent, must be ours (defence in depth next to CSRF tokens)."""
    origin: str | None = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    host: str = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host
