"""The names of the Xero organisations we are connected to (for the portal's dashboard).

Xero lists them at `/connections`; the connected organisation's name is kept with the token set
(the connect flow and the first token refresh learn it). For any other tenant a name seldom
changes, so each process asks once and keeps the answer (a tenant Xero did not list is
remembered as unknown, not asked again).
"""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.models.sync import TokenSet

LOOKUP_SECONDS = 5.0


class AccessTokens(Protocol):
    def current(self, deadline: Deadline) -> TokenSet: ...


class ConnectionLister(Protocol):
    def connections(self, access_token: str, deadline: Deadline) -> list[dict[str, Any]]: ...


class OrganisationNames:
    """tenant id → the organisation's name in Xero (None when Xero does not say)."""

    def __init__(self, tokens: AccessTokens, identity: ConnectionLister) -> None:
        self.tokens = tokens
        self.identity = identity
        self._names: dict[str, str | None] = {}

    def __call__(self, tenant_id: str) -> str | None:
        if tenant_id not in self._names:
            token_set = self.tokens.current(Deadline(LOOKUP_SECONDS))
            if token_set.tenant_id == tenant_id and token_set.tenant_name:
                return token_set.tenant_name  # kept with the token set: no call
            connections = self.identity.connections(token_set.access_token or "", Deadline(LOOKUP_SECONDS))
            for connection in connections:
                self._names[str(connection.get("tenantId"))] = connection.get("tenantName")
            self._names.setdefault(tenant_id, None)
        return self._names[tenant_id]
