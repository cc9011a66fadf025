"""Xero's identity service: rotating refresh tokens, opaque access tokens, connections.

Callers hold the sandbox lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sandbox.common import Clock
from sandbox.xero.config import TenantConfig, XeroSandboxConfig
from sandbox.xero.wire import identity_date, new_guid, problem_date

AUTH_CODE_TTL = 300.0  # seconds an authorization code stays exchangeable


class TokenError(Exception):
    """An OAuth error answered as `{"error": code}`."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class AccessDenied(Exception):
    """An access token the API refuses; `detail` goes into the 401 problem body."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class RefreshToken:
    token: str
    grant_id: str  # the authEventId of the consent that started this rotation chain
    scope: str
    issued_at: float
    used_at: float | None = None  # first exchange; starts the grace period
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    scope: str
    expires_at: float
    revoked: bool = False

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class Connection:
    id: str
    tenant: TenantConfig
    auth_event_id: str
    created: float
    updated: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "authEventId": self.auth_event_id,
            "tenantId": self.tenant.tenant_id,
            "tenantType": self.tenant.tenant_type,
            "tenantName": self.tenant.name,
            "createdDateUtc": identity_date(self.created),
            "updatedDateUtc": identity_date(self.updated),
        }


class Identity:
    def __init__(self, config: XeroSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.codes: dict[str, AuthCode] = {}
        self.connections: dict[str, Connection] = {}  # by tenant id
        grant = new_guid()
        self._add_refresh(self.config.initial_refresh_token, grant, self.config.default_scope)
        self._connect_all(grant)

    # --- tokens -----------------------------------------------------------

    def mint_refresh_token(self, scope: str | None = None) -> str:
        """A fresh, unused refresh token of a new grant (as if a user just consented)."""
        token = _opaque()
        self._add_refresh(token, new_guid(), scope or self.config.default_scope)
        return token

    def authenticate_client(self, basic: tuple[str, str] | None, form: dict[str, str]) -> None:
        """HTTP Basic or form credentials; RFC 6749 §5.2 wants 401 when Basic was tried."""
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        ok = secrets.compare_digest(client_id, self.config.client_id) and secrets.compare_digest(
            secret, self.config.client_secret
        )
        if not ok:
            raise TokenError("invalid_client", 401 if basic else 400)

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if not grant_type:
            raise TokenError("invalid_request")
        raise TokenError("unsupported_grant_type")

    def _refresh(self, token: str) -> dict[str, Any]:
        record = self.refresh_tokens.get(token)
        if record is None or not self._refresh_usable(record):
            raise TokenError("invalid_grant")
        if record.used_at is None:
            record.used_at = self.clock.now()
        # Rotation: every exchange (including a retry inside the grace period) issues a new pair.
        return self._issue(record.grant_id, record.scope, with_refresh=True)

    def _refresh_usable(self, record: RefreshToken) -> bool:
        now = self.clock.now()
        if record.revoked:
            return False
        if record.used_at is None:
            return now < record.issued_at + self.config.refresh_token_idle_expiry
        return now < record.used_at + self.config.refresh_grace

    def _exchange_code(self, form: dict[str, str]) -> dict[str, Any]:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or self.clock.now() >= code.expires_at:
            raise TokenError("invalid_grant")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise TokenError("invalid_grant")
        code.used = True
        grant = new_guid()
        self._connect_all(grant)
        return self._issue(grant, code.scope, with_refresh="offline_access" in code.scope.split())

    def _issue(self, grant_id: str, scope: str, *, with_refresh: bool) -> dict[str, Any]:
        now = self.clock.now()
        ttl = float(self.config.access_token_ttl)
        access = AccessToken(_opaque(), grant_id, scope, now + ttl)
        self.access_tokens[access.token] = access
        body: dict[str, Any] = {}
        if "openid" in scope.split():
            body["id_token"] = self._id_token(now, ttl)
        body.update(access_token=access.token, expires_in=int(ttl), token_type="Bearer")
        if with_refresh:
            body["refresh_token"] = self._add_refresh(_opaque(), grant_id, scope).token
        body["scope"] = scope
        return body

    def _add_refresh(self, token: str, grant_id: str, scope: str) -> RefreshToken:
        record = RefreshToken(token, grant_id, scope, self.clock.now())
        self.refresh_tokens[token] = record
        return record

    def _id_token(self, now: float, ttl: float) -> str:
        """JWT-shaped but unsigned: clients must not rely on verifying it against the sandbox."""
        header = {"alg": "RS256", "kid": "sandbox", "typ": "JWT"}
        claims = {
            "iss": "https://identity.xero.com",
            "aud": self.config.client_id,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + ttl),
            "sub": "sandbox-user",
            "xero_userid": "5f4b2c9e-0000-4000-8000-000000000001",
            "email": "sandbox.user@example.com",
            "given_name": "Sandbox",
            "family_name": "User",
        }
        parts = [_b64(json.dumps(header)), _b64(json.dumps(claims)), _b64("sandbox-signature")]
        return ".".join(parts)

    def revoke(self, token: str) -> None:
        """Revocation kills the whole grant: its tokens and its connections."""
        record = self.refresh_tokens.get(token)
        if record is None:
            return  # RFC 7009: unknown tokens are not an error
        for item in [*self.refresh_tokens.values(), *self.access_tokens.values()]:
            if item.grant_id == record.grant_id:
                item.revoked = True
        for tenant_id, conn in list(self.connections.items()):
            if conn.auth_event_id == record.grant_id:
                del self.connections[tenant_id]

    # --- authorization code (consent) --------------------------------------

    def issue_code(self, client_id: str, redirect_uri: str, scope: str) -> str:
        code = _opaque()
        expires = self.clock.now() + AUTH_CODE_TTL
        self.codes[code] = AuthCode(
            code, client_id, redirect_uri, scope or self.config.default_scope, expires
        )
        return code

    # --- API access ----------------------------------------------------------

    def check_access(self, authorization: str | None) -> AccessToken:
        token = _bearer(authorization)
        record = self.access_tokens.get(token) if token else None
        if record is None or record.revoked:
            raise AccessDenied("AuthenticationUnsuccessful")
        if self.clock.now() >= record.expires_at:
            raise AccessDenied(f"TokenExpired: token expired at {problem_date(record.expires_at)}")
        return record

    # --- connections -------------------------------------------------------

    def _connect_all(self, grant_id: str) -> None:
        now = self.clock.now()
        for tenant in self.config.tenants:
            key = tenant.tenant_id.lower()  # tenant ids are GUIDs: compare case-insensitively
            existing = self.connections.get(key)
            if existing:
                existing.auth_event_id, existing.updated = grant_id, now
            else:
                self.connections[key] = Connection(new_guid(), tenant, grant_id, now, now)

    def list_connections(self, auth_event_id: str | None = None) -> list[dict[str, Any]]:
        items = [c.to_json() for c in self.connections.values()]
        return [c for c in items if not auth_event_id or c["authEventId"] == auth_event_id]

    def delete_connection(self, connection_id: str) -> bool:
        for tenant_id, conn in list(self.connections.items()):
            if conn.id.lower() == connection_id.lower():
                del self.connections[tenant_id]
                return True
        return False

    def connected_tenant(self, tenant_id: str | None) -> TenantConfig | None:
        conn = self.connections.get((tenant_id or "").strip().lower())
        return conn.tenant if conn else None

    def state(self) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "refresh_tokens": len(self.refresh_tokens),
            "usable_refresh_tokens": sum(self._refresh_usable(r) for r in self.refresh_tokens.values()),
            "access_tokens": len(self.access_tokens),
            "valid_access_tokens": sum(
                not a.revoked and now < a.expires_at for a in self.access_tokens.values()
            ),
            "connections": self.list_connections(),
        }


def _opaque() -> str:
    return secrets.token_urlsafe(32)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
