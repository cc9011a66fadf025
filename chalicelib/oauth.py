"""Single-flight OAuth access tokens shared by every Lambda.

Xero rotates its refresh token on every refresh and Xero's staff are clear that
one token set must live in one place; Zoho does not rotate but caps how many
access tokens a refresh token may mint. Both are served by the same rule:
the token set lives in the state table, exactly one process refreshes at a time
(a lease taken with a conditional write) and everyone else waits and re-reads.

The stored refresh token is only replaced after the provider has answered
with a new one. If a refresher dies after the provider rotated but before it
saved, the stored (old) token is still accepted by Xero for 30 minutes, so
the next refresher simply uses it again: nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, FatalError
from chalicelib.models.sync import TokenSet

logger = logging.getLogger(__name__)

# Refresh a little before the provider's expiry so a token never dies mid-call.
EXPIRY_MARGIN_SECONDS = 120.0


class TokenStore(Protocol):
    def get(self, provider: str) -> TokenSet | None: ...
    def seed(self, token_set: TokenSet) -> bool: ...
    def begin_refresh(self, provider: str, owner: str, lease_seconds: float) -> TokenSet | None: ...
    def complete_refresh(self, provider: str, owner: str, new: TokenSet) -> bool: ...
    def abort_refresh(self, provider: str, owner: str, error: str | None) -> None: ...
    def remember(self, provider: str, tenant_id: str, facts: dict[str, str]) -> bool: ...


# Exchange a refresh token for a new token set (raises SyncError subclasses).
Exchange = Callable[[TokenSet, Deadline], TokenSet]


class TokenManager:
    def __init__(
        self,
        provider: str,
        store: TokenStore,
        exchange: Exchange,
        *,
        seed_refresh_token: str = "",
        not_connected_message: str,
        lease_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll_seconds: float = 0.2,
    ) -> None:
        self.provider = provider
        self.store = store
        self.exchange = exchange
        self.seed_refresh_token = seed_refresh_token
        self.not_connected_message = not_connected_message
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.sleep = sleep
        self.poll_seconds = poll_seconds
        self.owner = f"{provider}-{uuid.uuid4()}"
        self._cached: TokenSet | None = None
        # Threads of one process queue here; processes queue on the stored lease.
        self._refreshing = threading.Lock()

    def current(self, deadline: Deadline) -> TokenSet:
        """A token set whose access token is valid now."""
        if self._cached is not None and self._usable(self._cached):
            return self._cached
        return self.refresh(deadline)

    def refresh(self, deadline: Deadline, *, rejected_access_token: str | None = None) -> TokenSet:
        """Get a fresh token set, refreshing only if nobody else already did.

        `rejected_access_token` is one the provider just refused; a stored set
        still holding it must be refreshed even if its expiry looks fine.
        """
        with self._refreshing:
            return self._refresh(deadline, rejected_access_token)

    def _refresh(self, deadline: Deadline, rejected_access_token: str | None) -> TokenSet:
        while True:
            stored = self._load()
            if self._usable(stored) and stored.access_token != rejected_access_token:
                self._cached = stored
                return stored
            leased = self.store.begin_refresh(self.provider, self.owner, self.lease_seconds)
            if leased is None:
                self._wait_for_other_refresher(deadline)
                continue
            if self._usable(leased) and leased.access_token != rejected_access_token:
                # Someone refreshed between our read and our lease: use theirs.
                self.store.abort_refresh(self.provider, self.owner, None)
                self._cached = leased
                return leased
            fresh = self._refresh_with_lease(leased, deadline)
            if fresh is not None:
                self._cached = fresh
                return fresh
            # We lost the lease while refreshing: someone else saved a newer set; read it.

    def _refresh_with_lease(self, leased: TokenSet, deadline: Deadline) -> TokenSet | None:
        try:
            new = self.exchange(leased, deadline)
        except FatalError as error:
            metrics.token_refresh_failed(self.provider)
            # "event" is a stable field: the stack's CloudWatch metric filter counts these.
            logger.warning(
                "the provider refused to issue a token",
                extra={"event": "auth_failed", "provider": self.provider, "reason": error.detail},
            )
            self.store.abort_refresh(self.provider, self.owner, error.message)
            raise
        except Exception:
            metrics.token_refresh_failed(self.provider)  # e.g. the provider did not answer
            self.store.abort_refresh(self.provider, self.owner, None)
            raise
        new.refreshed_at = self.clock()
        if not new.refresh_token:  # Zoho keeps the same refresh token
            new.refresh_token = leased.refresh_token
        new.tenant_id = new.tenant_id or leased.tenant_id
        if new.tenant_id == leased.tenant_id:  # what we know of the organisation still holds
            new.tenant_name = new.tenant_name or leased.tenant_name
            new.short_code = new.short_code or leased.short_code
        new.version = leased.version
        if self.store.complete_refresh(self.provider, self.owner, new):
            logger.info("access token refreshed", extra={"provider": self.provider})
            return new
        logger.warning("token refresh lease lost; re-reading", extra={"provider": self.provider})
        return None

    def _load(self) -> TokenSet:
        stored = self.store.get(self.provider)
        if stored is None or not stored.refresh_token:
            if not self.seed_refresh_token:
                raise FatalError(self.not_connected_message)
            self.store.seed(TokenSet(provider=self.provider, refresh_token=self.seed_refresh_token))
            stored = self.store.get(self.provider)
            if stored is None:
                raise FatalError(self.not_connected_message)
        return stored

    def _usable(self, token_set: TokenSet) -> bool:
        return bool(token_set.access_token) and token_set.expires_at - EXPIRY_MARGIN_SECONDS > self.clock()

    def _wait_for_other_refresher(self, deadline: Deadline) -> None:
        if not deadline.allows(self.poll_seconds):
            raise DeadlineExceededError(
                f"Waiting for the {self.provider.capitalize()} connection to refresh took too long."
            )
        self.sleep(self.poll_seconds)

    def remember(self, **facts: str) -> None:
        """Keep facts about the connected organisation (`tenant_name`, `short_code`) with the
        stored token set, so no process has to ask the provider again."""
        cached = self._cached
        if cached is None or not cached.tenant_id:
            return
        if self.store.remember(self.provider, cached.tenant_id, facts):
            for name, value in facts.items():
                setattr(cached, name, value)

    def remember_tenant(self, tenant_id: str, tenant_name: str | None = None) -> None:
        if self._cached is not None:
            if self._cached.tenant_id != tenant_id:
                self._cached.short_code = None  # another organisation's
            self._cached.tenant_id, self._cached.tenant_name = tenant_id, tenant_name
