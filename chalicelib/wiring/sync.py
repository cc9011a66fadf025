"""The sync of one Account or contact: Zoho → Xero, Xero → Zoho CRM, deletions, Both Way."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.wiring.upstreams import Upstreams

if TYPE_CHECKING:
    from chalicelib.services.account_search import AccountSearch
    from chalicelib.services.both_way import BothWay
    from chalicelib.services.coalescing import Coalescing
    from chalicelib.services.conflicts import ConflictResolver
    from chalicelib.services.preview import PreviewService
    from chalicelib.services.sync_account import AccountSyncer
    from chalicelib.services.xero_inbound import XeroInbound
    from chalicelib.services.zoho_deletions import ZohoDeletions


class SyncServices(Upstreams):
    @cached_property
    def syncer(self) -> AccountSyncer:
        """Zoho CRM → Xero for one Account (the click, the queue, a batch's leftovers)."""
        from chalicelib.services.sync_account import AccountSyncer, SyncDependencies

        deps = SyncDependencies(
            zoho=self.zoho,
            xero=self.xero,
            states=self.states,
            history=self.history,
            locks=self.locks,
            field_map=self.field_map,
            links=self.xero_links,
            lock_seconds=self.settings.ACCOUNT_LOCK_SECONDS,
            snapshots=self.snapshots,
            both_way=self.both_way,
        )
        return AccountSyncer(deps)

    @cached_property
    def coalescing(self) -> Coalescing:
        from chalicelib.services.coalescing import Coalescing

        return Coalescing(self.pending, self.settings.COALESCE_SECONDS)

    @cached_property
    def previewer(self) -> PreviewService:
        from chalicelib.services.preview import PreviewService

        return PreviewService(self.zoho, self.xero, self.states, self.field_map)

    @cached_property
    def account_search(self) -> AccountSearch:
        from chalicelib.services.account_search import AccountSearch

        return AccountSearch(self.zoho, self.field_map)

    # --- Xero → Zoho CRM (services/xero_inbound/) ----------------------------

    @cached_property
    def xero_inbound(self) -> XeroInbound:
        from chalicelib.services.xero_inbound import InboundDependencies, XeroInbound

        s = self.settings
        return XeroInbound(
            InboundDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                snapshots=self.snapshots,
                history=self.history,
                locks=self.locks,
                field_map=self.field_map,
                contact_url=self.xero_links.contact_url,
                creates_accounts=s.XERO_CREATES_ACCOUNTS,
                lock_seconds=s.ACCOUNT_LOCK_SECONDS,
                both_way=self.both_way,
            )
        )

    # --- Zoho deletions → Xero archives (services/zoho_deletions.py) ---------------

    @cached_property
    def zoho_deletions(self) -> ZohoDeletions:
        """`archive_deleted_since(deadline)`: the schedule's poll, and a zoho_to_xero run's planner."""
        from chalicelib.services.zoho_deletions import DeletionDependencies, ZohoDeletions

        return ZohoDeletions(
            DeletionDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                history=self.history,
                locks=self.locks,
                watermarks=self.watermarks,
                archive_on_delete=self.settings.ARCHIVE_ON_ZOHO_DELETE,
            )
        )

    # --- Both Way (services/both_way.py) -----------------------------------------

    @cached_property
    def both_way(self) -> BothWay | None:
        """The merge of a linked pair under SYNC_MODE=both; None: each change flows one way."""
        return self.pair_merge if self.settings.SYNC_MODE == "both" else None

    @cached_property
    def pair_merge(self) -> BothWay:
        """The merge of a linked pair, whatever SYNC_MODE says (`both` runs use it too)."""
        from chalicelib.services.both_way import BothWay, BothWayDependencies

        return BothWay(
            BothWayDependencies(
                zoho=self.zoho,
                xero=self.xero,
                snapshots=self.snapshots,
                conflicts=self.conflicts,
                history=self.history,
                field_map=self.field_map,
                policy=lambda: self.settings.CONFLICT_POLICY,
            )
        )

    @cached_property
    def conflict_resolver(self) -> ConflictResolver:
        """A person's "keep Zoho's" / "keep Xero's" on a held conflict (the portal's Conflicts page)."""
        from chalicelib.services.conflicts import ConflictResolver, ResolveDependencies

        return ConflictResolver(
            ResolveDependencies(
                zoho=self.zoho,
                xero=self.xero,
                snapshots=self.snapshots,
                conflicts=self.conflicts,
                history=self.history,
                locks=self.locks,
                field_map=self.field_map,
                contact_url=self.xero_links.contact_url,
                lock_seconds=self.settings.ACCOUNT_LOCK_SECONDS,
            )
        )
