"""Zoho Accounts OAuth: refresh token → access token + the data centre's API host."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.http import HttpService
from chalicelib.models.sync import TokenSet

RECONNECT = "Reconnect Zoho CRM from the portal (Connect › Zoho) or update ZOHO_REFRESH_TOKEN."


class ZohoIdentity:
    def __init__(
        self,
        http: HttpService,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock

    def exchange(self, current: TokenSet, deadline: Deadline) -> TokenSet:
        """Zoho does not rotate refresh tokens: the answer carries only a new access token."""
        return self._grant(
            {"grant_type": "refresh_token", "refresh_token": current.refresh_token or ""},
            deadline,
            "refreshing the Zoho CRM connection",
        )

    def exchange_code(self, code: str, redirect_uri: str, deadline: Deadline) -> TokenSet:
        return self._grant(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            deadline,
            "connecting Zoho CRM",
        )

    def exchange_self_client_code(self, code: str, deadline: Deadline) -> TokenSet:
        """A grant code made in the API console's Self Client tab: no redirect URI is involved."""
        return self._grant(
            {"grant_type": "authorization_code", "code": code}, deadline, "connecting Zoho CRM"
        )

    def _grant(self, params: dict[str, str], deadline: Deadline, what: str) -> TokenSet:
        form = {**params, "client_id": self.client_id, "client_secret": self.client_secret}
        response = self.http.send("POST", f"{self.accounts_url}/oauth/v2/token", deadline=deadline, data=form)
        data = _json(response)
        error = str(data.get("error", ""))
        if error:
            raise _token_error(error)
        if response.status_code != 200 or "access_token" not in data:
            raise self.http.unexpected(response, what)
        return TokenSet(
            provider="zoho",
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=self.clock() + float(data.get("expires_in", 3600)),
            api_domain=data.get("api_domain"),
        )


def _token_error(error: str) -> FatalError:
    if error == "invalid_client":
        return FatalError(
            "Zoho did not recognise this app's client ID or secret. Check ZOHO_CLIENT_ID and "
            "ZOHO_CLIENT_SECRET in the service's settings.",
            detail="token endpoint answered invalid_client",
        )
    if error in ("invalid_code", "invalid_grant"):
        return FatalError(
            "The Zoho CRM connection is no longer valid (Zoho refused the saved refresh token). " + RECONNECT,
            detail=f"token endpoint answered {error}",
        )
    if error in ("Access Denied", "access_denied"):
        return FatalError(
            "Zoho is temporarily refusing new access tokens (too many requests for one refresh token). "
            "Syncs will resume within 10 minutes.",
            detail=f"token endpoint answered {error}",
        )
    return FatalError(f"Zoho refused to issue an access token ({error}). " + RECONNECT)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
