"""Zoho CRM and Xero: HTTP sessions, OAuth identities and tokens, the API clients."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.deadline import Deadline
from chalicelib.http import HttpService, session
from chalicelib.oauth import TokenManager
from chalicelib.wiring.repositories import Repositories

if TYPE_CHECKING:
    from chalicelib.models.calls import UpstreamCalls
    from chalicelib.services.connect import Connector
    from chalicelib.services.xero_links import XeroLinks
    from chalicelib.xero.auth import XeroIdentity
    from chalicelib.xero.budget import XeroRateGate
    from chalicelib.xero.client import XeroClient
    from chalicelib.xero.organisations import OrganisationNames
    from chalicelib.zoho.auth import ZohoIdentity
    from chalicelib.zoho.client import ZohoClient
    from chalicelib.zoho.limits import ZohoHttpService

IDENTITY_POOL_SIZE = 2  # token refreshes are single-flight (chalicelib/oauth.py)


class Upstreams(Repositories):
    # --- HTTP: one session (connection pool) per upstream, sized to the calls we allow it at once

    @cached_property
    def xero_http(self) -> HttpService:
        return self._http("Xero", pool_size=self.settings.XERO_CONCURRENT_LIMIT)

    @cached_property
    def xero_identity_http(self) -> HttpService:
        return self._http("Xero", pool_size=IDENTITY_POOL_SIZE)

    @cached_property
    def zoho_http(self) -> ZohoHttpService:
        from chalicelib.zoho.limits import ZohoHttpService

        s = self.settings
        return ZohoHttpService(
            "Zoho CRM",
            session(s.ZOHO_CONCURRENT_LIMIT),
            timeout=s.HTTP_TIMEOUT_SECONDS,
            connect_timeout=s.HTTP_CONNECT_TIMEOUT_SECONDS,
            concurrent_limit=s.ZOHO_CONCURRENT_LIMIT,
            credits_retry_seconds=s.ZOHO_CREDITS_RETRY_SECONDS,
        )

    @cached_property
    def zoho_accounts_http(self) -> HttpService:
        return self._http("Zoho CRM", pool_size=IDENTITY_POOL_SIZE)

    def _http(self, name: str, *, pool_size: int) -> HttpService:
        s = self.settings
        return HttpService(
            name,
            session(pool_size),
            timeout=s.HTTP_TIMEOUT_SECONDS,
            connect_timeout=s.HTTP_CONNECT_TIMEOUT_SECONDS,
        )

    def upstream_calls_in_this_thread(self) -> UpstreamCalls:
        """What this thread sent upstream, token calls included (a run's statistics)."""
        from chalicelib.models.calls import UpstreamCalls

        xero = self.xero_http.calls_in_this_thread() + self.xero_identity_http.calls_in_this_thread()
        zoho = self.zoho_http.calls_in_this_thread() + self.zoho_accounts_http.calls_in_this_thread()
        return UpstreamCalls(xero, zoho, self.zoho_http.credits_in_this_thread())

    # --- OAuth: identities and the tokens they refresh ------------------------

    @cached_property
    def xero_identity(self) -> XeroIdentity:
        from chalicelib.xero.auth import XeroIdentity

        s = self.settings
        return XeroIdentity(
            self.xero_identity_http,
            identity_url=s.XERO_IDENTITY_URL,
            api_url=s.XERO_API_URL,
            client_id=s.XERO_CLIENT_ID,
            client_secret=s.secret("XERO_CLIENT_SECRET"),
            tenant_id=s.XERO_TENANT_ID,
        )

    @cached_property
    def zoho_identity(self) -> ZohoIdentity:
        return self._zoho_identity_at(self.settings.ZOHO_ACCOUNTS_URL)

    def _zoho_identity_at(self, accounts_url: str) -> ZohoIdentity:
        from chalicelib.zoho.auth import ZohoIdentity

        s = self.settings
        return ZohoIdentity(
            self.zoho_accounts_http,
            accounts_url=accounts_url,
            client_id=s.ZOHO_CLIENT_ID,
            client_secret=s.secret("ZOHO_CLIENT_SECRET"),
        )

    @cached_property
    def xero_tokens(self) -> TokenManager:
        return TokenManager(
            "xero",
            self.tokens,
            self.xero_identity.exchange,
            seed_refresh_token=self.settings.secret("XERO_REFRESH_TOKEN"),
            not_connected_message="Xero is not connected yet. Connect Xero from the portal (Connect › Xero).",
            lease_seconds=self.settings.TOKEN_LEASE_SECONDS,
        )

    @cached_property
    def zoho_tokens(self) -> TokenManager:
        return TokenManager(
            "zoho",
            self.tokens,
            self.zoho_identity.exchange,
            seed_refresh_token=self.settings.secret("ZOHO_REFRESH_TOKEN"),
            not_connected_message="Zoho CRM is not connected yet. Connect Zoho from the portal (Connect › Zoho).",
            lease_seconds=self.settings.TOKEN_LEASE_SECONDS,
        )

    @cached_property
    def connector(self) -> Connector:
        """Connect Xero or Zoho (OAuth code flow): `python -m chalicelib.cli connect`, the portal."""
        from chalicelib.services.connect import ConnectConfig, Connector

        s = self.settings
        return Connector(
            ConnectConfig(
                xero_login_url=s.XERO_LOGIN_URL,
                xero_client_id=s.XERO_CLIENT_ID,
                xero_tenant_id=s.XERO_TENANT_ID,
                zoho_accounts_url=s.ZOHO_ACCOUNTS_URL,
                zoho_client_id=s.ZOHO_CLIENT_ID,
            ),
            tokens=self.tokens,
            xero_identity=self.xero_identity,
            xero_tokens=self.xero_tokens,
            # The person's data centre may differ from ZOHO_ACCOUNTS_URL (Zoho says so in the callback).
            zoho_identity_at=self._zoho_identity_at,
        )

    @cached_property
    def organisations(self) -> OrganisationNames:
        """tenant id -> the Xero organisation's name, looked up once per process."""
        from chalicelib.xero.organisations import OrganisationNames

        return OrganisationNames(self.xero_tokens, self.xero_identity)

    # --- the API clients --------------------------------------------------------

    @cached_property
    def xero(self) -> XeroClient:
        from chalicelib.xero.client import XeroClient

        return XeroClient(
            self.xero_http, self.xero_tokens, api_url=self.settings.XERO_API_URL, gate=self.rate_gate
        )

    @cached_property
    def rate_gate(self) -> XeroRateGate:
        from chalicelib.xero.budget import XeroRateGate

        return XeroRateGate(self.xero_budget, self.rate_limits)

    @cached_property
    def zoho(self) -> ZohoClient:
        from chalicelib.zoho.client import ZohoClient

        return ZohoClient(self.zoho_http, self.zoho_tokens)

    @cached_property
    def xero_links(self) -> XeroLinks:
        """Links to a contact in Xero's web app (the organisation's short code, looked up once)."""
        from chalicelib.services.xero_links import XeroLinks

        return XeroLinks(self.settings.XERO_WEB_URL, lambda: self.xero.organisation_short_code(Deadline(5.0)))
