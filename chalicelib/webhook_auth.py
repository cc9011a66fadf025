"""Is this request really from our Zoho org? A shared secret, compared in constant time.

Zoho workflow webhooks can only send a static header (no signature scheme), so
`X-Webhook-Token` is required. A Deluge button function can also sign the raw
body: `X-Webhook-Signature` = hex HMAC-SHA256(body, same secret); when present
it must match too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TOKEN_HEADER = "X-Webhook-Token"
SIGNATURE_HEADER = "X-Webhook-Signature"
MAX_BODY_BYTES = 64 * 1024


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_authentic(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    if not secret:
        return False  # an unset secret must never mean "accept everything"
    token = _header(headers, TOKEN_HEADER)
    if token is None or not hmac.compare_digest(token.encode(), secret.encode()):
        return False
    signature = _header(headers, SIGNATURE_HEADER)
    if signature is None:
        return True
    return hmac.compare_digest(signature.strip().lower().encode(), sign(raw_body, secret).encode())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value
