"""What connecting Xero or Zoho CRM came to (services/connect.py does the connecting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORGANISATION = "ORGANISATION"


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    tenant_type: str = ORGANISATION


@dataclass
class ConnectResult:
    provider: str
    message: str  # plain words for the person who connected
    tenants: list[Tenant] = field(default_factory=list)  # Xero: the connected organisations
    connected_tenant: Tenant | None = None  # Xero: the one the sync uses
    api_domain: str | None = None  # Zoho: the data centre's API host
    accounts_url: str | None = None  # Zoho: the accounts server that issued the tokens
    warnings: list[str] = field(default_factory=list)

    @property
    def needs_choice(self) -> bool:
        """Xero connected several organisations and none is chosen yet: call `choose_tenant`."""
        return self.provider == "xero" and self.connected_tenant is None and len(self.tenants) > 1

    @property
    def organisation(self) -> str | None:
        return self.connected_tenant.name if self.connected_tenant else None


def describe(result: ConnectResult) -> dict[str, Any]:
    """The result as plain data (JSON for the portal or `--json`); never a token."""
    return {
        "provider": result.provider,
        "message": result.message,
        "organisation": result.organisation,
        "tenant_id": result.connected_tenant.tenant_id if result.connected_tenant else None,
        "tenants": [{"tenant_id": t.tenant_id, "name": t.name} for t in result.tenants],
        "needs_choice": result.needs_choice,
        "api_domain": result.api_domain,
        "accounts_url": result.accounts_url,
        "warnings": list(result.warnings),
    }
