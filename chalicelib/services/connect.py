"""Connect Xero or Zoho CRM: the OAuth authorization-code flow, for the CLI and the portal.

1. `authorization_url(provider, redirect_uri, state)`: where to send the person's browser
   (`new_state()` makes the `state`; keep it to check the answer).
2. The provider sends the browser back to `redirect_uri?code=...&state=...`;
   `code_from_callback(params, state)` checks the state and reads the code or the refusal.
3. `complete(provider, code, redirect_uri)`: exchanges the code, stores the token set where
   the service reads it (the state table, `TokenRepository.replace`, which also wins over
   any refresh in flight) and says which Xero organisation or Zoho data centre is connected.
4. Xero connected to several organisations: `choose_tenant(tenant_id)`.

Zoho Self Client codes (made in the API console, no browser) go to
`complete("zoho", code, redirect_uri=None)`.

Nothing here imports boto3 or chalice: `chalicelib.wiring.Container.connector` passes the
repository and the identity clients in.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.models.connect import ORGANISATION, ConnectResult, Tenant
from chalicelib.models.sync import TokenSet
from chalicelib.zoho.datacentres import DATA_CENTRES, api_domain_ok, expected_api_domain

PROVIDERS = ("xero", "zoho")
# The narrowest scopes the service needs (docs/xero-setup.md, docs/zoho-setup.md):
# Xero: contacts read/write, the refresh token, and GET /Organisation for contact links.
XERO_SCOPES = ("offline_access", "accounting.contacts", "accounting.settings.read")
# Zoho: read and update Accounts (the sync result), read Contacts, COQL for bulk runs.
ZOHO_SCOPES = (
    "ZohoCRM.modules.accounts.READ",
    "ZohoCRM.modules.accounts.UPDATE",
    "ZohoCRM.modules.contacts.READ",
    "ZohoCRM.coql.READ",
)
XERO_AUTHORIZE_PATH = "/identity/connect/authorize"
ZOHO_AUTHORIZE_PATH = "/oauth/v2/auth"
# Zoho's data centres, exactly (chalicelib/zoho/datacentres.py lists them with the source):
# a callback's accounts-server must be one of these or the configured ZOHO_ACCOUNTS_URL.
ZOHO_DATA_CENTRES = {dc.accounts_url: dc.code for dc in DATA_CENTRES}


class ConnectError(FatalError):
    """Connecting did not work; the message says what to do."""


class UntrustedServerError(ConnectError):
    """The callback itself named a server we do not send codes to: bad input (400), not an
    upstream failure."""


class TokenStore(Protocol):
    def get(self, provider: str) -> TokenSet | None: ...
    def replace(self, token_set: TokenSet) -> TokenSet: ...


class XeroIdentityLike(Protocol):
    def exchange_code(self, code: str, redirect_uri: str, deadline: Deadline) -> TokenSet: ...
    def connections(self, access_token: str, deadline: Deadline) -> list[dict[str, Any]]: ...


class ZohoIdentityLike(Protocol):
    def exchange_code(self, code: str, redirect_uri: str, deadline: Deadline) -> TokenSet: ...
    def exchange_self_client_code(self, code: str, deadline: Deadline) -> TokenSet: ...


class CurrentTokens(Protocol):
    def current(self, deadline: Deadline) -> TokenSet: ...
    def remember_tenant(self, tenant_id: str, tenant_name: str | None = None) -> None: ...


@dataclass(frozen=True)
class ConnectConfig:
    xero_login_url: str
    xero_client_id: str
    zoho_accounts_url: str
    zoho_client_id: str
    xero_tenant_id: str = ""  # XERO_TENANT_ID: when set, it wins over the stored choice
    xero_scopes: tuple[str, ...] = XERO_SCOPES
    zoho_scopes: tuple[str, ...] = ZOHO_SCOPES


def new_state() -> str:
    """An unguessable `state` for one authorization (keep it to check the callback)."""
    return secrets.token_urlsafe(32)


def code_from_callback(params: Mapping[str, str], expected_state: str) -> str:
    """The authorization code from the provider's redirect, after checking its `state`."""
    state = params.get("state") or ""
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise ConnectError(
            "This sign-in answer does not belong to the connection you started (the state does not "
            "match). Start connecting again."
        )
    error = params.get("error")
    if error:
        if error == "access_denied":
            raise ConnectError(
                "Access was not granted, so nothing was connected. Start again and allow access."
            )
        raise ConnectError(f"The provider refused the connection ({error}). Start connecting again.")
    code = params.get("code")
    if not code:
        raise ConnectError("The sign-in answer carried no authorization code. Start connecting again.")
    return code


class Connector:
    def __init__(
        self,
        config: ConnectConfig,
        *,
        tokens: TokenStore,
        xero_identity: XeroIdentityLike,
        zoho_identity_at: Callable[[str], ZohoIdentityLike],
        xero_tokens: CurrentTokens | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.xero_identity = xero_identity
        self.zoho_identity_at = zoho_identity_at  # a Zoho identity client for an accounts server
        self.xero_tokens = xero_tokens
        self.timeout_seconds = timeout_seconds

    # --- step 1 ----------------------------------------------------------------

    def authorization_url(self, provider: str, redirect_uri: str, state: str) -> str:
        """The provider's consent page for this app; `redirect_uri` must be registered with the app."""
        if not state:
            raise ValueError("an authorization needs a state")
        if _provider(provider) == "xero":
            base = self.config.xero_login_url.rstrip("/") + XERO_AUTHORIZE_PATH
            client_id = _required(self.config.xero_client_id, "XERO_CLIENT_ID", "docs/xero-setup.md")
            query = {"scope": " ".join(self.config.xero_scopes)}
        else:
            base = self.config.zoho_accounts_url.rstrip("/") + ZOHO_AUTHORIZE_PATH
            client_id = _required(self.config.zoho_client_id, "ZOHO_CLIENT_ID", "docs/zoho-setup.md")
            # offline: a refresh token; consent: Zoho issues a new one even if the app was allowed before.
            query = {
                "scope": ",".join(self.config.zoho_scopes),
                "access_type": "offline",
                "prompt": "consent",
            }
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, **query}
        return f"{base}?{urlencode({**params, 'state': state})}"

    # --- step 3 ----------------------------------------------------------------

    def complete(
        self,
        provider: str,
        code: str,
        redirect_uri: str | None,
        *,
        tenant_id: str | None = None,
        accounts_server: str | None = None,
    ) -> ConnectResult:
        """Exchange `code`, store the token set, and say what is connected.

        Xero: `tenant_id` picks the organisation when several are connected.
        Zoho: `accounts_server` is the `accounts-server` of the callback (the person's data
        centre); `redirect_uri=None` means a Self Client code.
        """
        deadline = Deadline(self.timeout_seconds)
        if _provider(provider) == "xero":
            if not redirect_uri:
                raise ConnectError("Connecting Xero needs the redirect URI the app is registered with.")
            return self._complete_xero(code, redirect_uri, tenant_id, deadline)
        return self._complete_zoho(code, redirect_uri, accounts_server, deadline)

    def choose_tenant(self, tenant_id: str) -> ConnectResult:
        """Make the sync use another connected Xero organisation, without signing in again."""
        if self.xero_tokens is None:
            raise ConnectError("Choosing a Xero organisation needs the Xero connection; connect Xero first.")
        deadline = Deadline(self.timeout_seconds)
        current = self.xero_tokens.current(deadline)
        tenants = self._organisations(current.access_token or "", deadline)
        chosen = _find(tenants, tenant_id)
        if chosen is None:
            raise ConnectError(
                f"Xero organisation {tenant_id} is not connected to this app. Connected: {_listing(tenants)}."
            )
        stored = self.tokens.get("xero") or current
        stored.tenant_id, stored.tenant_name, stored.short_code = chosen.tenant_id, chosen.name, None
        self.tokens.replace(stored)
        self.xero_tokens.remember_tenant(chosen.tenant_id, chosen.name)
        return ConnectResult(
            provider="xero",
            message=f'Xero organisation "{chosen.name}" is now the one synced.',
            tenants=tenants,
            connected_tenant=chosen,
            warnings=self._configured_tenant_warnings(chosen, tenants),
        )

    # --- Xero --------------------------------------------------------------------

    def _complete_xero(
        self, code: str, redirect_uri: str, tenant_id: str | None, deadline: Deadline
    ) -> ConnectResult:
        token_set = self.xero_identity.exchange_code(code, redirect_uri, deadline)
        if not token_set.refresh_token:
            raise ConnectError(
                "Xero gave no refresh token, so the connection would stop working in 30 minutes. "
                "The app must ask for the offline_access scope."
            )
        tenants = self._organisations(token_set.access_token or "", deadline)
        if not tenants:
            raise ConnectError(
                "No Xero organisation was connected. Connect again and choose the organisation to sync with."
            )
        chosen, warnings = self._pick(tenants, tenant_id)
        token_set.tenant_id = chosen.tenant_id if chosen else None
        token_set.tenant_name = chosen.name if chosen else None
        self.tokens.replace(token_set)
        if chosen is None:
            message = f"Xero is connected to {len(tenants)} organisations; choose the one to sync: {_listing(tenants)}."
        else:
            message = f'Connected Xero organisation "{chosen.name}".'
            warnings += self._configured_tenant_warnings(chosen, tenants)
        return ConnectResult("xero", message, tenants=tenants, connected_tenant=chosen, warnings=warnings)

    def _organisations(self, access_token: str, deadline: Deadline) -> list[Tenant]:
        connections = self.xero_identity.connections(access_token, deadline)
        # PRACTICE tenants (Xero HQ) have no Accounting API: only organisations can be synced.
        return [
            Tenant(str(c["tenantId"]), str(c.get("tenantName") or c["tenantId"]), str(c.get("tenantType")))
            for c in connections
            if c.get("tenantType") == ORGANISATION
        ]

    def _pick(self, tenants: list[Tenant], tenant_id: str | None) -> tuple[Tenant | None, list[str]]:
        if tenant_id:
            chosen = _find(tenants, tenant_id)
            if chosen is None:
                return None, [
                    f"Organisation {tenant_id} is not among the connected ones: {_listing(tenants)}."
                ]
            return chosen, []
        configured = _find(tenants, self.config.xero_tenant_id) if self.config.xero_tenant_id else None
        if configured is not None:
            return configured, []
        return (tenants[0] if len(tenants) == 1 else None), []

    def _configured_tenant_warnings(self, chosen: Tenant, tenants: list[Tenant]) -> list[str]:
        configured = self.config.xero_tenant_id
        if not configured or configured.lower() == chosen.tenant_id.lower():
            return []
        if _find(tenants, configured) is None:
            return [
                f"XERO_TENANT_ID is set to {configured}, an organisation this connection does not include; "
                "remove that setting so the choice above is used."
            ]
        return [
            f"XERO_TENANT_ID is set to {configured} and wins over this choice; remove it to use this one."
        ]

    # --- Zoho --------------------------------------------------------------------

    def _complete_zoho(
        self, code: str, redirect_uri: str | None, accounts_server: str | None, deadline: Deadline
    ) -> ConnectResult:
        configured = self.config.zoho_accounts_url.rstrip("/")
        accounts = (accounts_server or configured).rstrip("/")
        # Checked before any network call: the code and the client secret go to this host.
        if accounts != configured and accounts not in ZOHO_DATA_CENTRES:
            raise UntrustedServerError(
                f"The sign-in answer named {_shown(accounts)} as its Zoho accounts server, which is not "
                "one of Zoho's data centres, so nothing was sent there and nothing was connected. "
                "Start connecting again from this portal."
            )
        identity = self.zoho_identity_at(accounts)
        if redirect_uri:
            token_set = identity.exchange_code(code, redirect_uri, deadline)
        else:
            token_set = identity.exchange_self_client_code(code, deadline)
        if not api_domain_ok(accounts, token_set.api_domain):
            raise ConnectError(
                f"Zoho's answer named {_shown(token_set.api_domain or 'no host')} as the CRM API host, but "
                f"{accounts} serves {expected_api_domain(accounts)}; nothing was stored. Start connecting again."
            )
        if not token_set.refresh_token:
            raise ConnectError(
                "Zoho gave no refresh token (the code was made without offline access). "
                "Make a new code and connect again."
            )
        self.tokens.replace(token_set)
        warnings = []
        if accounts != configured:
            warnings.append(
                f"Your Zoho CRM is in the {data_centre(accounts)} data centre: set ZOHO_ACCOUNTS_URL={accounts} "
                "in the service's settings, or refreshing the connection will fail."
            )
        message = f"Connected Zoho CRM ({data_centre(accounts)} data centre, API {token_set.api_domain})."
        return ConnectResult(
            "zoho", message, api_domain=token_set.api_domain, accounts_url=accounts, warnings=warnings
        )


def data_centre(accounts_url: str) -> str:
    return ZOHO_DATA_CENTRES.get(accounts_url.rstrip("/"), accounts_url)


def _shown(value: str) -> str:
    """An untrusted URL, shortened and stripped of control characters, for a message."""
    clean = "".join(ch for ch in value if ch.isprintable())
    return clean if len(clean) <= 80 else clean[:77] + "..."


def _provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    return provider


def _required(value: str, name: str, guide: str) -> str:
    if not value:
        raise ConnectError(f"{name} is not set. Create the app as {guide} describes and set {name}.")
    return value


def _find(tenants: list[Tenant], tenant_id: str) -> Tenant | None:
    wanted = tenant_id.strip().lower()
    return next((t for t in tenants if t.tenant_id.lower() == wanted), None)


def _listing(tenants: list[Tenant]) -> str:
    return ", ".join(f'"{t.name}" ({t.tenant_id})' for t in tenants)
