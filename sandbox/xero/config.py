"""Settings of the Xero stand-in; every field can be changed at runtime (admin `POST config`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sandbox.seed_data import XERO_SHORT_CODE, XERO_TENANT_ID, XERO_TENANT_NAME

DEFAULT_SCOPE = "openid profile email accounting.contacts accounting.settings offline_access"


@dataclass
class TenantConfig:
    """One Xero organisation the app is connected to."""

    tenant_id: str
    name: str
    short_code: str
    tenant_type: str = "ORGANISATION"
    country_code: str = "AU"
    base_currency: str = "AUD"


def _default_tenants() -> list[TenantConfig]:
    return [TenantConfig(XERO_TENANT_ID, XERO_TENANT_NAME, XERO_SHORT_CODE)]


@dataclass
class XeroSandboxConfig:
    client_id: str = "sandbox-xero-client-id"
    client_secret: str = "sandbox-xero-client-secret"
    initial_refresh_token: str = "sandbox-xero-refresh-token"
    default_scope: str = DEFAULT_SCOPE
    provider_name: str = "Zoho Xero Sync (sandbox)"  # Xero echoes the app name as ProviderName
    access_token_ttl: float = 1800.0
    refresh_grace: float = 1800.0  # a rotated refresh token may be retried this long
    refresh_token_idle_expiry: float = 60 * 86400.0
    rate_limits_enabled: bool = True
    minute_limit: int = 60
    concurrent_limit: int = 5
    day_limit: int = 5000
    app_minute_limit: int = 10000
    idempotency_window: float = 360.0
    seed: bool = True
    # Applied by reset(): changing tenants at runtime needs a reset to take effect.
    tenants: list[TenantConfig] = field(default_factory=_default_tenants)
    validate_requests: bool = True
    # Webhooks (sandbox/xero/webhooks.py). Times are seconds of the sandbox clock.
    webhook_batch_window: float = 1.0  # events are collected this long before a payload is sent
    webhook_batch_max: int = 100  # events per payload at most
    webhook_timeout: float = 5.0  # Xero wants an answer within 5 s
    webhook_retry_first: float = 30.0  # first retry after a failed delivery; the interval doubles
    webhook_retry_max_interval: float = 3600.0  # ... up to this
    webhook_retry_period: float = 86400.0  # failing this long disables the subscription (Xero: 24 h)
    webhook_intent_rounds: int = 3  # correctly and incorrectly signed intent-to-receive payloads, each
    webhook_background_delivery: bool = True  # False: only deliver_now() sends (deterministic tests)
    webhook_duplicate_deliveries: bool = False  # fault: every payload is delivered twice
    webhook_out_of_order: bool = False  # fault: newest events and payloads first
    webhook_max_pending_events: int = 20_000  # memory bound while a receiver is down (~10 MB)
    webhook_resource_base_url: str = "https://api.xero.com"  # resourceUrl = {this}/api.xro/2.0/Contacts/{id}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Partial update; unknown keys raise KeyError so typos are not silently ignored."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise KeyError(f"unknown config field(s): {', '.join(unknown)}")
        for key, value in changes.items():
            if key == "tenants":
                value = [t if isinstance(t, TenantConfig) else TenantConfig(**t) for t in value]
            setattr(self, key, value)
