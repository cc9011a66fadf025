"""Zoho Accounts' OAuth 2.0 server, as far as a server-side integration sees it.

* ``POST /oauth/v2/token`` with ``grant_type=refresh_token`` or ``authorization_code``; the
  parameters may come in the query string (as Zoho's docs show) or a form body (as its SDK sends).
  Errors are answered with HTTP 200 and ``{"error": ...}``, like Zoho does.
* Refresh tokens do not rotate and never expire; access tokens live `access_token_ttl` seconds.
* A refresh token that mints more than `token_refresh_limit` access tokens in 10 minutes is
  refused with Zoho's "too many requests" answer: integrations must cache their access token.
* ``GET /oauth/v2/auth`` shows a consent page whose Accept button redirects to
  ``redirect_uri?code=...&state=...&location=us&accounts-server=...``; codes live 2 minutes and
  work once.
"""

from __future__ import annotations

import html
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .config import ZohoSandboxConfig

SCOPE = "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.coql.READ"
CODE_TTL = 120
REFRESH_WINDOW = 600


@dataclass
class TokenState:
    access: dict[str, tuple[float, str]] = field(default_factory=dict)  # token -> (expiry, refresh)
    refresh: set[str] = field(default_factory=set)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    mints: dict[str, deque[float]] = field(default_factory=dict)  # refresh token -> mint times


def _token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


class OAuthServer:
    """Token bookkeeping; the app calls it under its lock and supplies the clock's time."""

    def __init__(self, config: ZohoSandboxConfig) -> None:
        self.config = config
        self.state = TokenState()

    def reset(self) -> None:
        self.state = TokenState()

    # ---- token endpoint ---------------------------------------------------------------
    def token(self, params: dict[str, str], now: float, api_domain: str) -> dict[str, Any]:
        if params.get("client_id") != self.config.client_id or (
            params.get("client_secret") != self.config.client_secret
        ):
            return {"error": "invalid_client"}
        grant = params.get("grant_type")
        if grant == "refresh_token":
            return self._refresh(params.get("refresh_token", ""), now, api_domain)
        if grant == "authorization_code":
            return self._exchange_code(params, now, api_domain)
        return {"error": "unsupported_grant_type"}

    def _known_refresh(self, token: str) -> bool:
        return token == self.config.refresh_token or token in self.state.refresh

    def _refresh(self, refresh: str, now: float, api_domain: str) -> dict[str, Any]:
        if not self._known_refresh(refresh):
            return {"error": "invalid_code"}
        if self._over_mint_limit(refresh, now):
            return {
                "error_description": "You have made too many requests continuously. "
                "Please try again after some time.",
                "error": "Access Denied",
                "status": "failure",
            }
        return self._issue(refresh, now, api_domain)

    def _over_mint_limit(self, refresh: str, now: float) -> bool:
        limit = self.config.token_refresh_limit
        mints = self.state.mints.setdefault(refresh, deque())
        while mints and mints[0] <= now - REFRESH_WINDOW:
            mints.popleft()
        return limit is not None and len(mints) >= limit

    def _issue(self, refresh: str, now: float, api_domain: str) -> dict[str, Any]:
        access = _token()
        self.state.access[access] = (now + self.config.access_token_ttl, refresh)
        self.state.mints.setdefault(refresh, deque()).append(now)
        return {
            "access_token": access,
            "scope": SCOPE,
            "api_domain": api_domain,
            "token_type": "Bearer",
            "expires_in": self.config.access_token_ttl,
        }

    def _exchange_code(self, params: dict[str, str], now: float, api_domain: str) -> dict[str, Any]:
        grant = self.state.codes.pop(params.get("code", ""), None)
        if grant is None or grant["expires"] < now:
            return {"error": "invalid_code"}
        if grant["redirect_uri"] and params.get("redirect_uri") not in (None, grant["redirect_uri"]):
            return {"error": "invalid_redirect_uri"}
        refresh = _token()
        self.state.refresh.add(refresh)
        answer = self._issue(refresh, now, api_domain)
        answer["refresh_token"] = refresh
        return answer

    def revoke(self, token: str) -> dict[str, Any]:
        self.state.refresh.discard(token)
        for access, (_, refresh) in list(self.state.access.items()):
            if refresh == token:
                del self.state.access[access]
        return {"status": "success"}

    # ---- API authentication -----------------------------------------------------------
    def check(self, header: str | None, now: float) -> bool:
        """Is `Authorization: Zoho-oauthtoken <token>` a live access token?"""
        prefix = "Zoho-oauthtoken "
        if not header or not header.startswith(prefix):
            return False
        entry = self.state.access.get(header[len(prefix) :].strip())
        return entry is not None and entry[0] > now

    def mint(self, now: float, api_domain: str) -> str:
        """An access token for tests that do not want to go through the token endpoint."""
        return self._issue(self.config.refresh_token, now, api_domain)["access_token"]

    # ---- consent page -----------------------------------------------------------------
    def consent_page(self, params: dict[str, str]) -> tuple[int, str]:
        if params.get("client_id") != self.config.client_id:
            return 400, "<h1>Invalid Client</h1><p>invalid_client</p>"
        if params.get("response_type") != "code" or not params.get("redirect_uri"):
            return 400, "<h1>Invalid Request</h1><p>response_type=code and redirect_uri are required</p>"
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        scope = html.escape(params.get("scope", ""))
        page = (
            "<!doctype html><title>Zoho Accounts (sandbox)</title>"
            f"<h1>Sandbox Zoho CRM wants access</h1><p>Scopes: {scope}</p>"
            f'<form method="post" action="/oauth/v2/auth">{hidden}'
            '<button name="decision" value="accept">Accept</button> '
            '<button name="decision" value="deny">Deny</button></form>'
        )
        return 200, page

    def decide(self, params: dict[str, str], now: float, accounts_server: str) -> str:
        """Where the browser goes after Accept/Deny (the redirect URL)."""
        redirect_uri = params.get("redirect_uri", "")
        query: dict[str, str] = {}
        if params.get("decision") == "accept":
            code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            self.state.codes[code] = {"expires": now + CODE_TTL, "redirect_uri": redirect_uri}
            query["code"] = code
        else:
            query["error"] = "access_denied"
        if params.get("state") is not None:
            query["state"] = params["state"]
        query.update({"location": "us", "accounts-server": accounts_server})
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(query)}"
