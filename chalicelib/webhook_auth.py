"""Is this request really from our Zoho org, and fresh? A shared secret, compared in constant time.

Zoho workflow webhooks can only send a static header (no signature scheme), so
`X-Webhook-Token` is required. The "Sync to Xero" button (a Deluge function) also signs:
`X-Webhook-Timestamp` = Unix time of the click (seconds, or milliseconds as
Deluge's `unixEpoch()` gives it), and `X-Webhook-Signature` = hex
HMAC-SHA256 of `timestamp + "." + body`, keyed with the same secret. A signed request must
carry its timestamp, and is refused when older than WEBHOOK_MAX_AGE_SECONDS (5 minutes) or
more than a minute ahead of our clock, so a captured click cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TOKEN_HEADER = "X-Webhook-Token"
SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
DEFAULT_MAX_AGE_SECONDS = 300.0
FUTURE_SKEW_SECONDS = 60.0  # clocks differ a little; a signature from the future is not fresh

WRONG_TOKEN = "Missing or wrong webhook token."
WRONG_SIGNATURE = "The webhook signature does not match its body and timestamp."
NO_TIMESTAMP = (
    "A signed webhook needs its X-Webhook-Timestamp header. Copy zoho-crm-button/sync_to_xero.deluge into "
    "the button's function again (docs/zoho-setup.md, step 4)."
)
STALE = (
    "Not synced: the click reached us more than 5 minutes after it was made, or a clock is wrong. "
    "Click Sync to Xero again."
)


def sign(body: bytes, secret: str, timestamp: str | int) -> str:
    """What X-Webhook-Signature carries: hex HMAC-SHA256 of `timestamp.body`, keyed with the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def refusal(
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float | None = None,
    max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
) -> str | None:
    """None when the request is authentic (and, if signed, fresh); else why not, in words."""
    if not secret:
        return WRONG_TOKEN  # an unset secret must never mean "accept everything"
    token = _header(headers, TOKEN_HEADER)
    if token is None or not hmac.compare_digest(token.encode(), secret.encode()):
        return WRONG_TOKEN
    signature = _header(headers, SIGNATURE_HEADER)
    if signature is None:
        return None  # a workflow webhook: Zoho can only send the static token
    timestamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 13:
        return NO_TIMESTAMP
    expected = sign(raw_body, secret, timestamp)
    if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
        return WRONG_SIGNATURE
    age = (time.time() if now is None else now) - _seconds(timestamp)
    if age > max_age_seconds or age < -FUTURE_SKEW_SECONDS:
        return STALE
    return None


def _seconds(timestamp: str) -> float:
    """Unix seconds, or milliseconds (13 digits: what Deluge's unixEpoch() gives) as seconds."""
    value = int(timestamp)
    return value / 1000 if len(timestamp) == 13 else float(value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value
