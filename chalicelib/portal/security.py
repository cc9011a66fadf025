"""The portal's sign-in primitives: password hashes, signed session cookies, CSRF tokens.

Pure standard library (no Chalice, no AWS), so every rule here is unit-tested directly.

- Passwords are stored as salted scrypt hashes: `scrypt$N$r$p$<salt>$<hash>` (base64url).
  `python -m chalicelib.portal.hash_password` makes one for ADMIN_PASSWORD_HASH.
- A session is a signed cookie (HMAC-SHA256 over a small JSON payload): who signed in when,
  when it ends, its CSRF token. The base key is derived from SESSION_SECRET *and* the
  current credential, so changing the password ends every session at once.
- Each cookie kind (session, sign-in form, OAuth state) has a purpose: its own key derived
  from the base key, and the purpose inside the signed payload. A cookie is only ever read
  as the kind it was made for.
- CSRF tokens are bound to the session (the token lives inside the signed cookie and is
  compared in constant time with the one a form sends back).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

SCRYPT_N = 2**14  # ~16 MB and ~50 ms per check: cheap for one admin, slow for a guesser
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MAX_PASSWORD_CHARS = 1024  # never feed megabytes to scrypt
MIN_PASSWORD_CHARS = 12
OAUTH_STATE_SECONDS = 600.0
COOKIE_VERSION = 1


class PasswordConfigError(Exception):
    """ADMIN_PASSWORD_HASH is set but is not a hash this code can check."""


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored scrypt hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, expected = stored.strip().split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        params = int(n), int(r), int(p)
        salt_bytes, expected_bytes = _unb64(salt), _unb64(expected)
    except ValueError:
        raise PasswordConfigError(
            "ADMIN_PASSWORD_HASH is not a password hash this service understands. Make a new one with "
            "`python -m chalicelib.portal.hash_password` and store it in the service's settings."
        ) from None
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    actual = _scrypt(password, salt_bytes, *params, length=len(expected_bytes))
    return hmac.compare_digest(actual, expected_bytes)


def check_credential(password: str, *, password_hash: str, admin_token: str) -> bool:
    """The sign-in rule: the password hash when one is set, else the admin token; else nothing."""
    if password_hash:
        return verify_password(password, password_hash)
    if admin_token:
        return hmac.compare_digest(password.encode(), admin_token.encode())
    return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=128 * r * n * 2
    )


# --- sessions ---------------------------------------------------------------------------------

# Every cookie we sign has one purpose; each purpose has its own key (derived from the base
# key) *and* names itself in the signed payload, so no cookie is ever accepted as another kind
# (a sign-in form's cookie is not a session, an OAuth-state cookie is neither).
SESSION = "session"
SIGNIN = "signin"
OAUTH = "oauth"
PURPOSES = (SESSION, SIGNIN, OAUTH)


@dataclass(frozen=True)
class Session:
    sid: str  # random id: sign-out revokes it server-side
    csrf: str  # the token every form must send back
    issued_at: float
    expires_at: float

    @classmethod
    def new(cls, *, lifetime_seconds: float, now: float | None = None) -> Session:
        moment = time.time() if now is None else now
        return cls(
            sid=secrets.token_urlsafe(16),
            csrf=secrets.token_urlsafe(32),
            issued_at=moment,
            expires_at=moment + lifetime_seconds,
        )

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


@dataclass(frozen=True)
class OAuthState:
    """One connect attempt: which provider, its `state`, the session that started it, until when.

    It travels in its own cookie (purpose "oauth") and is also stored server-side, where the
    callback consumes it once (chalicelib/store/portal_settings.py `OAuthStates`).
    """

    provider: str
    state: str
    sid: str
    expires_at: float

    @classmethod
    def new(cls, provider: str, sid: str, now: float | None = None) -> OAuthState:
        moment = time.time() if now is None else now
        return cls(provider, secrets.token_urlsafe(24), sid, moment + OAUTH_STATE_SECONDS)

    def matches(self, provider: str, state: str, sid: str, now: float | None = None) -> bool:
        moment = time.time() if now is None else now
        return (
            bool(state)
            and self.provider == provider
            and self.expires_at > moment
            and hmac.compare_digest(self.sid.encode(), sid.encode())
            and hmac.compare_digest(self.state.encode(), state.encode())
        )


class CookieSigner:
    """Signs a small JSON payload for one purpose; a bad, expired or other-purpose value reads as None."""

    def __init__(self, key: bytes, purpose: str = SESSION) -> None:
        if len(key) < 16:
            raise ValueError("the session key is too short")
        if purpose not in PURPOSES:
            raise ValueError(f"unknown cookie purpose {purpose!r}")
        self.purpose = purpose
        self._key = hmac.new(key, f"portal-cookie|{purpose}".encode(), hashlib.sha256).digest()

    def seal(self, payload: dict[str, Any]) -> str:
        data = {"v": COOKIE_VERSION, "use": self.purpose, **payload}
        body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._sign(body)}"

    def unseal(self, value: str | None, now: float | None = None) -> dict[str, Any] | None:
        if not value or value.count(".") != 1 or len(value) > 4096:
            return None
        body, signature = value.split(".")
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            data = json.loads(_unb64(body))
            expires_at = float(data["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("v") != COOKIE_VERSION or data.get("use") != self.purpose:
            return None
        if (time.time() if now is None else now) >= expires_at:
            return None
        return data

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())


class SessionSigner(CookieSigner):
    """A Session as a cookie value and back (the session cookie, or the sign-in form's cookie)."""

    def dumps(self, session: Session) -> str:
        return self.seal(
            {"sid": session.sid, "csrf": session.csrf, "iat": session.issued_at, "exp": session.expires_at}
        )

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        data = self.unseal(value, now)
        if data is None:
            return None
        try:
            return Session(
                sid=str(data["sid"]),
                csrf=str(data["csrf"]),
                issued_at=float(data["iat"]),
                expires_at=float(data["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


class OAuthSigner(CookieSigner):
    def __init__(self, key: bytes) -> None:
        super().__init__(key, OAUTH)

    def dumps(self, oauth: OAuthState) -> str:
        return self.seal(
            {"provider": oauth.provider, "state": oauth.state, "sid": oauth.sid, "exp": oauth.expires_at}
        )

    def loads(self, value: str | None, now: float | None = None) -> OAuthState | None:
        data = self.unseal(value, now)
        if data is None:
            return None
        try:
            return OAuthState(str(data["provider"]), str(data["state"]), str(data["sid"]), float(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Signers:
    """One signer per cookie kind, all from the same base key (each with its own derived key)."""

    session: SessionSigner
    signin: SessionSigner
    oauth: OAuthSigner

    @classmethod
    def from_key(cls, key: bytes) -> Signers:
        return cls(SessionSigner(key, SESSION), SessionSigner(key, SIGNIN), OAuthSigner(key))


def session_key(*, session_secret: str, password_hash: str, admin_token: str) -> bytes | None:
    """The cookie-signing key, or None when no sign-in credential is configured.

    Derived from SESSION_SECRET and the credential in force, so a new password (or admin
    token) invalidates every cookie signed before. Without SESSION_SECRET the credential
    alone keys it (it is secret and, as a salted hash or a long token, high-entropy).
    """
    credential = password_hash or admin_token
    if not credential:
        return None
    fingerprint = hashlib.sha256(credential.encode()).hexdigest()
    secret = (session_secret or credential).encode()
    return hmac.new(secret, f"portal-session-v1|{fingerprint}".encode(), hashlib.sha256).digest()


# --- helpers ----------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc
