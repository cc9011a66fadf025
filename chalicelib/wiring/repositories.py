"""The DynamoDB repositories (store/), all on the one table."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.wiring.aws import AwsParts

if TYPE_CHECKING:
    from chalicelib.store.accounts import AccountStateRepository
    from chalicelib.store.budget import RateBudgetRepository
    from chalicelib.store.conflicts import ConflictRepository
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.locks import LockRepository
    from chalicelib.store.pending import PendingRepository
    from chalicelib.store.portal_settings import (
        OAuthStates,
        PortalSettingsRepository,
        SessionRevocations,
        SignInThrottle,
    )
    from chalicelib.store.runs import RunRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.store.tokens import TokenRepository
    from chalicelib.store.watermarks import WatermarkRepository


class Repositories(AwsParts):
    # --- the sync of one Account --------------------------------------------

    @cached_property
    def states(self) -> AccountStateRepository:
        from chalicelib.store.accounts import AccountStateRepository

        return AccountStateRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def history(self) -> HistoryRepository:
        from chalicelib.store.history import HistoryRepository

        return HistoryRepository(
            self.dynamodb, self.settings.TABLE_NAME, ttl_days=self.settings.HISTORY_TTL_DAYS
        )

    @cached_property
    def locks(self) -> LockRepository:
        from chalicelib.store.locks import LockRepository

        return LockRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def pending(self) -> PendingRepository:
        from chalicelib.store.pending import PendingRepository

        return PendingRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def snapshots(self) -> SnapshotRepository:
        """The pair's last synced values, so Xero's echo of our own write is ignored."""
        from chalicelib.store.snapshots import SnapshotRepository

        return SnapshotRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def conflicts(self) -> ConflictRepository:
        from chalicelib.store.conflicts import ConflictRepository

        return ConflictRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def watermarks(self) -> WatermarkRepository:
        from chalicelib.store.watermarks import WatermarkRepository

        return WatermarkRepository(self.dynamodb, self.settings.TABLE_NAME)

    # --- connections and limits ---------------------------------------------

    @cached_property
    def tokens(self) -> TokenRepository:
        from chalicelib.store.tokens import TokenRepository

        return TokenRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def xero_budget(self) -> RateBudgetRepository:
        from chalicelib.store.budget import RateBudgetRepository

        return RateBudgetRepository(self.dynamodb, self.settings.TABLE_NAME)

    # --- bulk runs ------------------------------------------------------------

    @cached_property
    def run_store(self) -> RunRepository:
        from chalicelib.store.runs import RunRepository

        return RunRepository(self.dynamodb, self.settings.TABLE_NAME)

    # --- the portal -------------------------------------------------------------

    @cached_property
    def portal_settings(self) -> PortalSettingsRepository:
        from chalicelib.store.portal_settings import PortalSettingsRepository

        return PortalSettingsRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def portal_sessions(self) -> SessionRevocations:
        from chalicelib.store.portal_settings import SessionRevocations

        return SessionRevocations(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def oauth_states(self) -> OAuthStates:
        from chalicelib.store.portal_settings import OAuthStates

        return OAuthStates(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def signin_throttle(self) -> SignInThrottle:
        from chalicelib.store.portal_settings import SignInThrottle

        return SignInThrottle(self.dynamodb, self.settings.TABLE_NAME)
