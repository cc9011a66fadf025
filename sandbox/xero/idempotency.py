"""Idempotency-Key on PUT/POST: replay a stored answer for a repeated request.

Xero (notes §7): keys are scoped per app, live 6 minutes, cached errors are replayed, and a key
reused with a different request is a 400. "Different" here means a different method, URL, tenant
or body bytes. Callers hold the sandbox lock, so check-then-store cannot race.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sandbox.common import Clock
from sandbox.xero.config import XeroSandboxConfig

MAX_KEY_LENGTH = 128


@dataclass
class Stored:
    fingerprint: str
    created: float
    status: int
    body: bytes


def fingerprint(method: str, url: str, tenant_id: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), url.encode(), tenant_id.lower().encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


MAX_ENTRIES = 5_000  # well over a day of bulk runs' POSTs at Xero's daily limit of 5,000 calls


class IdempotencyCache:
    def __init__(self, config: XeroSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.entries: dict[str, Stored] = {}

    def reset(self) -> None:
        self.entries.clear()

    def lookup(self, key: str, print_: str) -> Stored | bool | None:
        """The stored answer to replay, None if the key is new (or expired), False on a mismatch."""
        entry = self.entries.get(key)
        if entry is None or self.clock.now() >= entry.created + self.config.idempotency_window:
            self.entries.pop(key, None)
            return None
        return entry if entry.fingerprint == print_ else False

    def store(self, key: str, print_: str, status: int, body: bytes) -> None:
        self.entries.pop(key, None)  # re-inserted last, so the dict stays oldest-first
        self.entries[key] = Stored(print_, self.clock.now(), status, body)
        self._forget_old()

    def _forget_old(self) -> None:
        """Drop expired answers (oldest first) and keep at most MAX_ENTRIES, so a stand-in that
        runs for days holds a bounded cache (each entry keeps a whole response body)."""
        expired_before = self.clock.now() - self.config.idempotency_window
        while self.entries:
            oldest_key, oldest = next(iter(self.entries.items()))
            if oldest.created > expired_before and len(self.entries) <= MAX_ENTRIES:
                return
            del self.entries[oldest_key]
