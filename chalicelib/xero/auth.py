"""Xero identity: exchange a (rotating) refresh token, find the tenant."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.http import HttpService
from chalicelib.models.sync import TokenSet

RECONNECT = "Reconnect Xero from the portal (Connect › Xero) to fix this."


class XeroIdentity:
    def __init__(
        self,
        http: HttpService,
        *,
        identity_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        tenant_id: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.identity_url = identity_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.configured_tenant_id = tenant_id
        self.clock = clock

    def exchange(self, current: TokenSet, deadline: Deadline) -> TokenSet:
        """Refresh: Xero answers with a new access token AND a new refresh token."""
        response = self.http.send(
            "POST",
            f"{self.identity_url}/connect/token",
            deadline=deadline,
            data={"grant_type": "refresh_token", "refresh_token": current.refresh_token or ""},
            auth=(self.client_id, self.client_secret),
        )
        token_set = self._token_set(response, "refreshing the Xero connection")
        token_set.tenant_id = self.configured_tenant_id or current.tenant_id
        if not token_set.tenant_id:
            organisation = self.first_organisation(token_set.access_token or "", deadline)
            token_set.tenant_id = str(organisation["tenantId"])
            token_set.tenant_name = organisation.get("tenantName")
        return token_set

    def exchange_code(self, code: str, redirect_uri: str, deadline: Deadline) -> TokenSet:
        """Authorization-code grant, used by the connect flow."""
        response = self.http.send(
            "POST",
            f"{self.identity_url}/connect/token",
            deadline=deadline,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(self.client_id, self.client_secret),
        )
        return self._token_set(response, "connecting Xero")

    def connections(self, access_token: str, deadline: Deadline) -> list[dict[str, Any]]:
        response = self.http.send(
            "GET",
            f"{self.api_url}/connections",
            deadline=deadline,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        if response.status_code in (401, 403):
            raise FatalError("Xero refused to list the connected organisations. " + RECONNECT)
        if response.status_code != 200:
            raise self.http.unexpected(response, "listing the connected Xero organisations")
        return list(response.json())

    def first_organisation(self, access_token: str, deadline: Deadline) -> dict[str, Any]:
        """The first organisation (not a practice) connected to the app, as /connections lists it."""
        for connection in self.connections(access_token, deadline):
            if connection.get("tenantType") == "ORGANISATION":
                return connection
        raise FatalError("No Xero organisation is connected to this app. " + RECONNECT)

    def _token_set(self, response: requests.Response, what: str) -> TokenSet:
        if response.status_code in (400, 401):
            error = _error_code(response)
            if error in ("invalid_grant", "unauthorized_client"):
                raise FatalError(
                    "The Xero connection has expired or was revoked (Xero refused the saved "
                    "authorisation). " + RECONNECT,
                    detail=f"token endpoint answered {error}",
                )
            if error == "invalid_client":
                raise FatalError(
                    "Xero did not recognise this app's client ID or secret. Check XERO_CLIENT_ID and "
                    "XERO_CLIENT_SECRET in the service's settings.",
                    detail="token endpoint answered invalid_client",
                )
        if response.status_code != 200:
            raise self.http.unexpected(response, what)
        data = response.json()
        return TokenSet(
            provider="xero",
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=self.clock() + float(data.get("expires_in", 1800)),
        )


def _error_code(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
