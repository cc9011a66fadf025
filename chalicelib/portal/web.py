"""The portal's HTTP plumbing: the Blueprint, sessions, CSRF, rendering and URLs.

Everything heavier than the standard library and Chalice (Jinja2, the services, boto3)
is imported inside functions, so registering the portal costs the API handler's cold
start nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from chalice.app import Blueprint, Response

from chalicelib.portal.security import Session, SessionSigner, Signers
from chalicelib.portal.sessions import cleared_cookie, load_session, parse_form, same_origin

if TYPE_CHECKING:
    import jinja2

    from chalicelib.settings import Settings
    from chalicelib.wiring import Container

logger = logging.getLogger(__name__)

portal = Blueprint(__name__)

FORM = "application/x-www-form-urlencoded"
SIGNIN_FORM_SECONDS = 1800.0
HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# Short notices carried through redirects as ?notice=<code> (never free text in a URL).
NOTICES = {
    "signed-out": ("info", "You are signed out."),
    "connected-xero": ("success", "Xero is connected."),
    "connected-zoho": ("success", "Zoho CRM is connected."),
    "connect-cancelled": ("warning", "Connecting was cancelled; nothing changed."),
    "connect-expired": ("error", "That connect attempt expired or did not start here. Please try again."),
    "run-in-progress": ("warning", "A run is already in progress; here it is. Start another when it ends."),
    "settings-saved": ("success", "Settings saved."),
    "nothing-to-retry": (
        "info",
        "This run has no failed or rejected Accounts, so there is nothing to retry.",
    ),
}


@dataclass
class PortalRequest:
    """What a portal view gets: the request, the signed-in session, helpers."""

    request: Any
    session: Session | None
    signers: Signers | None
    form: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def services(self) -> Container:
        from chalicelib.wiring import container

        return container()

    def query(self, name: str, default: str = "") -> str:
        params = self.request.query_params or {}
        value = params.get(name)
        return str(value) if value is not None else default

    def url(self, path: str = "", **params: Any) -> str:
        return url(self.request, path, **params)

    def absolute_url(self, path: str = "") -> str:
        return absolute_url(self.request, path)

    @property
    def signer(self) -> SessionSigner | None:
        """The session cookie's signer (None when no sign-in credential is configured)."""
        return self.signers.session if self.signers else None

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(self, template, status=status, **context)

    def redirect(self, path: str, **params: Any) -> Response:
        return redirect(self.url(path, **params), self.set_cookies)


# --- URLs ----------------------------------------------------------------------------------


def mount_prefix(request: Any) -> str:
    """The part of the URL before our routes: "/api" on a deployed stage, "" locally."""
    event = request.to_original_event() if hasattr(request, "to_original_event") else {}
    full = str((request.context or {}).get("path") or "")
    route = str(event.get("path") or "")
    if route and full.endswith(route):
        return full[: len(full) - len(route)].rstrip("/")
    return ""


def url(request: Any, path: str = "", **params: Any) -> str:
    base = f"{mount_prefix(request)}/portal{path}"
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(query)}" if query else base


def absolute_url(request: Any, path: str = "") -> str:
    from chalicelib.wiring import container

    configured = container().settings.PORTAL_BASE_URL.rstrip("/")
    if configured:
        return f"{configured}/portal{path}"
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
    host = headers.get("host", "localhost")
    return f"{scheme}://{host}{url(request, path)}"


# What a post-sign-in destination may contain after the portal's root: URL path and query
# characters only (RFC 3986), so no CR/LF, spaces, backslashes or other hosts reach a header.
LOCAL_REST = re.compile(r"(?:[/?][A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?")
MAX_NEXT_CHARS = 2048


def safe_next(request: Any, target: str | None) -> str:
    """A local path inside the portal, or the portal's root: never another site, never a header break."""
    root = url(request)
    if not target or len(target) > MAX_NEXT_CHARS or not target.startswith(root):
        return root
    rest = target[len(root) :]
    path = rest.split("?", 1)[0]
    if not LOCAL_REST.fullmatch(rest) or path.startswith("//") or ".." in path.split("/"):
        return root
    return target


# --- views -------------------------------------------------------------------------------------


def page(*, csrf: bool | None = None) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A signed-in page: anonymous visitors are sent to sign in; POSTs need the CSRF token."""

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**params: Any) -> Response:
            request = portal.current_request
            ctx = _context(request)
            if ctx.session is None:
                return redirect(url(request, "/signin", next=_here(request)), [cleared_cookie()])
            if (csrf if csrf is not None else request.method == "POST") and not _csrf_ok(ctx):
                return forbidden(ctx)
            return _finish(ctx, view(ctx, **params))

        return handler

    return wrap


def api() -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """A signed-in JSON endpoint: 401 JSON (never a redirect) when there is no session."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**params: Any) -> Response:
            ctx = _context(portal.current_request)
            if ctx.session is None:
                return json_response(401, {"message": "Sign in to the portal first."})
            if portal.current_request.method != "GET" and not _csrf_ok(ctx, header=True):
                return json_response(403, {"message": "The request is missing its CSRF token."})
            answer = view(ctx, **params)
            return answer if isinstance(answer, Response) else json_response(200, answer)

        return handler

    return wrap


def _context(request: Any) -> PortalRequest:
    from chalicelib.wiring import container

    services = container()
    session, signers = load_session(request, services.settings, services.portal_sessions.is_revoked)
    form = parse_form(request) if request.method == "POST" else {}
    return PortalRequest(request=request, session=session, signers=signers, form=form)


def _csrf_ok(ctx: PortalRequest, *, header: bool = False) -> bool:
    token = ctx.request.headers.get("x-csrf-token") if header else ctx.form.get("csrf_token")
    return bool(ctx.session and ctx.session.csrf_matches(token) and same_origin(ctx.request))


def _here(request: Any) -> str:
    path = str((request.context or {}).get("path") or url(request))
    params = request.query_params or {}
    query = urlencode({k: params.get(k) for k in params}) if params else ""
    return f"{path}?{query}" if query else path


def _finish(ctx: PortalRequest, response: Response) -> Response:
    if ctx.set_cookies:
        existing = response.headers.get("Set-Cookie")
        cookies = ([existing] if isinstance(existing, str) else list(existing or [])) + ctx.set_cookies
        response.headers["Set-Cookie"] = cookies
    return response


def forbidden(ctx: PortalRequest) -> Response:
    return ctx.render(
        "error.html",
        status=403,
        title="This form has expired",
        message="The form was missing its security token or came from another site, so nothing was done. "
        "Go back, reload the page and try again.",
    )


def plain_message(problem: Exception, fallback: str) -> str:
    """An error's own plain message (our errors carry one); anything else is logged and the
    person reads `fallback` instead of a stack trace."""
    message = getattr(problem, "message", None)
    if isinstance(message, str) and message:
        return message
    logger.exception("portal step failed", exc_info=problem, extra={"shown": fallback})
    return fallback + " Please try again in a minute."


# --- responses --------------------------------------------------------------------------------


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {"Location": location, **SECURITY_HEADERS}
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    return Response(body="", status_code=303, headers=headers)


def json_response(status: int, body: dict[str, Any]) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **SECURITY_HEADERS}
    return Response(body=json.dumps(body, default=str), status_code=status, headers=headers)


def render(ctx: PortalRequest, template: str, status: int = 200, **context: Any) -> Response:
    env = templates()
    notice_code = ctx.query("notice")
    base = {
        "url": ctx.url,
        "static": lambda name: static_url(ctx.request, name),
        "csrf_token": ctx.session.csrf if ctx.session else "",
        "signed_in": ctx.session is not None,
        "notice": NOTICES.get(notice_code),
        "current_path": str((ctx.request.context or {}).get("path") or ""),
        "active": "",
    }
    body = env.get_template(template).render({**base, **context})
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS}
    if ctx.set_cookies:
        headers["Set-Cookie"] = list(ctx.set_cookies)
    return Response(body=body, status_code=status, headers=headers)


@functools.lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    import jinja2

    from chalicelib.portal import filters

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters.FILTERS)
    env.globals.update(filters.GLOBALS)
    return env


@functools.lru_cache(maxsize=8)
def static_version(name: str) -> str:
    import hashlib

    return hashlib.sha256((HERE / "static" / name).read_bytes()).hexdigest()[:10]


def static_url(request: Any, name: str) -> str:
    return url(request, f"/static/{quote(name)}", v=static_version(name))
