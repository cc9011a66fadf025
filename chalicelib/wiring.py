"""Composition root: builds clients, repositories and services from settings.

Built lazily on first use and cached per settings value, so nothing touches
the network or reads the environment at import time, and a changed
environment (tests, local runs) gets a fresh container.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.http import HttpService, session
from chalicelib.oauth import TokenManager
from chalicelib.settings import Settings, get_settings

IDENTITY_POOL_SIZE = 2  # token refreshes are single-flight (chalicelib/oauth.py)

if TYPE_CHECKING:  # the providers import their modules when first used (cold starts stay light)
    from collections.abc import Callable

    from botocore.client import BaseClient

    from chalicelib.mapping import FieldMap
    from chalicelib.models.budget import RateLimits
    from chalicelib.models.calls import UpstreamCalls
    from chalicelib.models.runs import Run
    from chalicelib.queue import SyncQueue
    from chalicelib.run_queue import RunQueue
    from chalicelib.services.account_search import AccountSearch
    from chalicelib.services.coalescing import Coalescing
    from chalicelib.services.connect import Connector
    from chalicelib.services.dashboard import BudgetUsage, DashboardService
    from chalicelib.services.notify import RunSummaryNotifier
    from chalicelib.services.preview import PreviewService
    from chalicelib.services.runs import RunService
    from chalicelib.services.sync_account import AccountSyncer
    from chalicelib.services.xero_runs import XeroRuns
    from chalicelib.services.zoho_deletions import ZohoDeletions
    from chalicelib.store.accounts import AccountStateRepository
    from chalicelib.store.budget import RateBudgetRepository
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
    from chalicelib.store.tokens import TokenRepository
    from chalicelib.xero.auth import XeroIdentity
    from chalicelib.xero.budget import XeroRateGate
    from chalicelib.xero.client import XeroClient
    from chalicelib.xero.organisations import OrganisationNames
    from chalicelib.zoho.auth import ZohoIdentity
    from chalicelib.zoho.client import ZohoClient
    from chalicelib.zoho.limits import ZohoHttpService


@dataclass
class Container:
    settings: Settings

    # --- AWS ----------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> BaseClient:
        import boto3

        return boto3.client("dynamodb")

    @cached_property
    def sqs(self) -> BaseClient:
        import boto3

        return boto3.client("sqs")

    @cached_property
    def queue_url(self) -> str:
        if self.settings.SYNC_QUEUE_URL:
            return self.settings.SYNC_QUEUE_URL
        return str(self.sqs.get_queue_url(QueueName=self.settings.SYNC_QUEUE_NAME)["QueueUrl"])

    @cached_property
    def queue(self) -> SyncQueue:
        from chalicelib.queue import SyncQueue

        return SyncQueue(self.sqs, self.queue_url, max_hold_seconds=self.settings.SYNC_MAX_HOLD_SECONDS)

    # --- repositories -------------------------------------------------------

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
    def coalescing(self) -> Coalescing:
        from chalicelib.services.coalescing import Coalescing

        return Coalescing(self.pending, self.settings.COALESCE_SECONDS)

    @cached_property
    def tokens(self) -> TokenRepository:
        from chalicelib.store.tokens import TokenRepository

        return TokenRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def xero_budget(self) -> RateBudgetRepository:
        from chalicelib.store.budget import RateBudgetRepository

        return RateBudgetRepository(self.dynamodb, self.settings.TABLE_NAME)

    # --- remote services ----------------------------------------------------

    # One session (connection pool) per upstream, sized to the calls we allow it at once.
    @cached_property
    def xero_http(self) -> HttpService:
        return self._http("Xero", pool_size=self.settings.XERO_CONCURRENT_LIMIT)

    @cached_property
    def xero_identity_http(self) -> HttpService:
        return self._http("Xero", pool_size=IDENTITY_POOL_SIZE)

    @cached_property
    def zoho_http(self) -> ZohoHttpService:
        from chalicelib.zoho.limits import ZohoHttpService

        s = self.settings
        return ZohoHttpService(
            "Zoho CRM",
            session(s.ZOHO_CONCURRENT_LIMIT),
            timeout=s.HTTP_TIMEOUT_SECONDS,
            connect_timeout=s.HTTP_CONNECT_TIMEOUT_SECONDS,
            concurrent_limit=s.ZOHO_CONCURRENT_LIMIT,
            credits_retry_seconds=s.ZOHO_CREDITS_RETRY_SECONDS,
        )

    @cached_property
    def zoho_accounts_http(self) -> HttpService:
        return self._http("Zoho CRM", pool_size=IDENTITY_POOL_SIZE)

    def _http(self, name: str, *, pool_size: int) -> HttpService:
        s = self.settings
        return HttpService(
            name,
            session(pool_size),
            timeout=s.HTTP_TIMEOUT_SECONDS,
            connect_timeout=s.HTTP_CONNECT_TIMEOUT_SECONDS,
        )

    def upstream_calls_in_this_thread(self) -> UpstreamCalls:
        """What this thread sent upstream, token calls included (a run's statistics)."""
        from chalicelib.models.calls import UpstreamCalls

        xero = self.xero_http.calls_in_this_thread() + self.xero_identity_http.calls_in_this_thread()
        zoho = self.zoho_http.calls_in_this_thread() + self.zoho_accounts_http.calls_in_this_thread()
        return UpstreamCalls(xero, zoho, self.zoho_http.credits_in_this_thread())

    @cached_property
    def xero_identity(self) -> XeroIdentity:
        from chalicelib.xero.auth import XeroIdentity

        s = self.settings
        return XeroIdentity(
            self.xero_identity_http,
            identity_url=s.XERO_IDENTITY_URL,
            api_url=s.XERO_API_URL,
            client_id=s.XERO_CLIENT_ID,
            client_secret=s.secret("XERO_CLIENT_SECRET"),
            tenant_id=s.XERO_TENANT_ID,
        )

    @cached_property
    def zoho_identity(self) -> ZohoIdentity:
        from chalicelib.zoho.auth import ZohoIdentity

        s = self.settings
        return ZohoIdentity(
            self.zoho_accounts_http,
            accounts_url=s.ZOHO_ACCOUNTS_URL,
            client_id=s.ZOHO_CLIENT_ID,
            client_secret=s.secret("ZOHO_CLIENT_SECRET"),
        )

    @cached_property
    def connector(self) -> Connector:
        """Connect Xero or Zoho (OAuth code flow): `python -m chalicelib.cli connect`, the portal."""
        from chalicelib.services.connect import ConnectConfig, Connector
        from chalicelib.zoho.auth import ZohoIdentity

        s = self.settings
        return Connector(
            ConnectConfig(
                xero_login_url=s.XERO_LOGIN_URL,
                xero_client_id=s.XERO_CLIENT_ID,
                xero_tenant_id=s.XERO_TENANT_ID,
                zoho_accounts_url=s.ZOHO_ACCOUNTS_URL,
                zoho_client_id=s.ZOHO_CLIENT_ID,
            ),
            tokens=self.tokens,
            xero_identity=self.xero_identity,
            xero_tokens=self.xero_tokens,
            # The person's data centre may differ from ZOHO_ACCOUNTS_URL (Zoho says so in the callback).
            zoho_identity_at=lambda url: ZohoIdentity(
                self.zoho_accounts_http,
                accounts_url=url,
                client_id=s.ZOHO_CLIENT_ID,
                client_secret=s.secret("ZOHO_CLIENT_SECRET"),
            ),
        )

    @cached_property
    def xero_tokens(self) -> TokenManager:
        return TokenManager(
            "xero",
            self.tokens,
            self.xero_identity.exchange,
            seed_refresh_token=self.settings.secret("XERO_REFRESH_TOKEN"),
            not_connected_message="Xero is not connected yet. Connect Xero from the portal (Connect › Xero).",
            lease_seconds=self.settings.TOKEN_LEASE_SECONDS,
        )

    @cached_property
    def zoho_tokens(self) -> TokenManager:
        return TokenManager(
            "zoho",
            self.tokens,
            self.zoho_identity.exchange,
            seed_refresh_token=self.settings.secret("ZOHO_REFRESH_TOKEN"),
            not_connected_message="Zoho CRM is not connected yet. Connect Zoho from the portal (Connect › Zoho).",
            lease_seconds=self.settings.TOKEN_LEASE_SECONDS,
        )

    @cached_property
    def xero(self) -> XeroClient:
        from chalicelib.xero.client import XeroClient

        return XeroClient(
            self.xero_http, self.xero_tokens, api_url=self.settings.XERO_API_URL, gate=self.rate_gate
        )

    @cached_property
    def rate_gate(self) -> XeroRateGate:
        from chalicelib.xero.budget import XeroRateGate

        return XeroRateGate(self.xero_budget, self.rate_limits)

    @cached_property
    def zoho(self) -> ZohoClient:
        from chalicelib.zoho.client import ZohoClient

        return ZohoClient(self.zoho_http, self.zoho_tokens)

    # --- use cases ----------------------------------------------------------

    @cached_property
    def run_store(self) -> RunRepository:
        from chalicelib.store.runs import RunRepository

        return RunRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def run_queue(self) -> RunQueue:
        from chalicelib.run_queue import RunQueue

        s = self.settings
        url = s.RUNS_QUEUE_URL or str(self.sqs.get_queue_url(QueueName=s.RUNS_QUEUE_NAME)["QueueUrl"])
        return RunQueue(self.sqs, url, s.RUNS_DLQ_URL or None, max_delay_seconds=s.RUN_MAX_DELAY_SECONDS)

    @cached_property
    def runs(self) -> RunService:
        from chalicelib.services.bulk_sync import BatchSyncer, BulkDependencies
        from chalicelib.services.runs import RunDependencies, RunService

        s = self.settings
        batches = BatchSyncer(
            BulkDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                history=self.history,
                field_map=self.field_map,
                links=self.syncer.deps.links,
                single=self.syncer,
            )
        )
        return RunService(
            RunDependencies(
                runs=self.run_store,
                queue=self.run_queue,
                zoho=self.zoho,
                xero=self.xero,
                batches=batches,
                field_map=self.field_map,
                calls=self.upstream_calls_in_this_thread,
                notify=self.run_notifier,
                schedule_hours=s.SYNC_SCHEDULE_HOURS,
                batch_size=s.RUN_BATCH_SIZE,
                overlap_seconds=s.RUN_OVERLAP_SECONDS,
                stale_after_seconds=s.RUN_STALE_SECONDS,
                xero_runs=self.xero_runs,
                deletions=self.zoho_deletions,
                both_runs=self.both_runs,
            )
        )

    @property
    def run_notifier(self) -> Callable[[Run], None]:
        """Called with each finished run: the e-mail summary (sends nothing without recipients)."""
        return self._send_summary

    def _send_summary(self, run: Run) -> None:
        self.summary_notifier.notify(run)

    @cached_property
    def syncer(self) -> AccountSyncer:
        from chalicelib.services.sync_account import AccountSyncer, SyncDependencies
        from chalicelib.services.xero_links import XeroLinks

        deps = SyncDependencies(
            zoho=self.zoho,
            xero=self.xero,
            states=self.states,
            history=self.history,
            locks=self.locks,
            field_map=self.field_map,
            links=XeroLinks(
                self.settings.XERO_WEB_URL,
                lambda: self.xero.organisation_short_code(Deadline(5.0)),
            ),
            lock_seconds=self.settings.ACCOUNT_LOCK_SECONDS,
            snapshots=self.snapshots,
            both_way=self.both_way,
        )
        return AccountSyncer(deps)

    # --- the portal (chalicelib/portal) -------------------------------------

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

    @cached_property
    def ses(self) -> BaseClient:
        import boto3

        return boto3.client("ses")

    @cached_property
    def summary_notifier(self) -> RunSummaryNotifier:
        """The run summary e-mail; `summary_notifier.notify(run)` once a run has finished."""
        from chalicelib.services.notify import RunSummaryNotifier, SesMailer

        base = self.settings.PORTAL_BASE_URL.rstrip("/")
        return RunSummaryNotifier(
            SesMailer(self.ses),
            sender=self.settings.SUMMARY_EMAIL_FROM,
            settings=self.portal_settings.get,
            problems=lambda run_id: self.runs.accounts(run_id, problems_only=True, limit=50)[0],
            run_url=lambda run_id: f"{base}/portal/runs/{run_id}" if base else None,
        )

    @cached_property
    def previewer(self) -> PreviewService:
        from chalicelib.services.preview import PreviewService

        return PreviewService(self.zoho, self.xero, self.states, self.field_map)

    @cached_property
    def account_search(self) -> AccountSearch:
        from chalicelib.services.account_search import AccountSearch

        return AccountSearch(self.zoho, self.field_map)

    @cached_property
    def dashboard(self) -> DashboardService:
        from chalicelib.services.dashboard import DashboardService

        s = self.settings
        return DashboardService(
            self.tokens,
            runs=lambda: self.runs,
            budget=self._budget_usage,
            organisation_name=self.organisations,
            seeded=lambda provider: bool(s.secret(f"{provider.upper()}_REFRESH_TOKEN")),
        )

    def _budget_usage(self, tenant_id: str) -> BudgetUsage:
        """Today's Xero calls for the dashboard."""
        from chalicelib.services.dashboard import budget_usage

        return budget_usage(self.xero_budget.usage(tenant_id, self.rate_limits))

    @cached_property
    def organisations(self) -> OrganisationNames:
        """tenant id -> the Xero organisation's name, looked up once per process."""
        from chalicelib.xero.organisations import OrganisationNames

        return OrganisationNames(self.xero_tokens, self.xero_identity)

    # --- shared settings-derived values ---------------------------------------

    def field_map(self) -> FieldMap:
        """The field map every use case reads (MAPPING_FILE, else the packaged one); cached by path."""
        from chalicelib.mapping import load_field_map

        return load_field_map(self.settings.MAPPING_FILE or None)

    @cached_property
    def rate_limits(self) -> RateLimits:
        from chalicelib.models.budget import RateLimits

        s = self.settings
        return RateLimits(
            minute=s.XERO_MINUTE_LIMIT, day=s.XERO_DAY_LIMIT, concurrent=s.XERO_CONCURRENT_LIMIT
        )

    # --- Xero → Zoho CRM (services/xero_inbound.py) ----------------------------

    @cached_property
    def snapshots(self) -> Any:
        from chalicelib.store.snapshots import SnapshotRepository

        return SnapshotRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def xero_inbound(self) -> Any:
        from chalicelib.mapping import load_field_map
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
                field_map=lambda: load_field_map(s.MAPPING_FILE or None),
                contact_url=self.syncer.deps.links.contact_url,
                creates_accounts=s.XERO_CREATES_ACCOUNTS,
                lock_seconds=s.ACCOUNT_LOCK_SECONDS,
                both_way=self.both_way,
            )
        )

    @cached_property
    def xero_runs(self) -> XeroRuns:
        from chalicelib.mapping import load_field_map
        from chalicelib.services.xero_runs import XeroRuns

        return XeroRuns(
            self.xero_inbound, self.run_store, lambda: load_field_map(self.settings.MAPPING_FILE or None)
        )

    # --- Zoho deletions → Xero archives (services/zoho_deletions.py) ---------------

    @cached_property
    def zoho_deletions(self) -> ZohoDeletions:
        """`archive_deleted_since(deadline)`: the schedule's poll, and a zoho_to_xero run's planner."""
        from chalicelib.services.zoho_deletions import DeletionDependencies, ZohoDeletions
        from chalicelib.store.watermarks import WatermarkRepository

        return ZohoDeletions(
            DeletionDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                history=self.history,
                locks=self.locks,
                watermarks=WatermarkRepository(self.dynamodb, self.settings.TABLE_NAME),
                archive_on_delete=self.settings.ARCHIVE_ON_ZOHO_DELETE,
            )
        )

    # --- Both Way (services/both_way.py) -----------------------------------------

    @cached_property
    def conflicts(self) -> Any:
        from chalicelib.store.conflicts import ConflictRepository

        return ConflictRepository(self.dynamodb, self.settings.TABLE_NAME)

    @cached_property
    def both_way(self) -> Any:
        """The merge of a linked pair under SYNC_MODE=both; None: each change flows one way."""
        if self.settings.SYNC_MODE != "both":
            return None
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
    def conflict_resolver(self) -> Any:
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
                contact_url=self.syncer.deps.links.contact_url,
                lock_seconds=self.settings.ACCOUNT_LOCK_SECONDS,
            )
        )

    # --- `both` runs (services/both_runs.py) -------------------------------------

    @cached_property
    def both_runs(self) -> Any:
        """A `both` run's batches: linked pairs merged (whatever SYNC_MODE says), the rest one way."""
        from chalicelib.services.both_run_writes import MergerDependencies, PairMerger
        from chalicelib.services.both_runs import BothRunDependencies, BothRuns
        from chalicelib.services.both_way import BothWay, BothWayDependencies
        from chalicelib.services.bulk_sync import BatchSyncer, BulkDependencies

        both = BothWay(
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
        merger = PairMerger(
            MergerDependencies(
                zoho=self.zoho,
                xero=self.xero,
                snapshots=self.snapshots,
                history=self.history,
                both=both,
                field_map=self.field_map,
                contact_url=self.syncer.deps.links.contact_url,
            )
        )
        batches = BatchSyncer(
            BulkDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                history=self.history,
                field_map=self.field_map,
                links=self.syncer.deps.links,
                single=self.syncer,
            )
        )
        return BothRuns(
            BothRunDependencies(
                xero=self.xero,
                states=self.states,
                snapshots=self.snapshots,
                merger=merger,
                xero_runs=self.xero_runs,
                batches=batches,
            )
        )


def container() -> Container:
    return _container(get_settings())


@lru_cache(maxsize=2)
def _container(settings: Settings) -> Container:
    return Container(settings)


def lambda_deadline(context: Any, margin: float = 10.0, fallback: float = 50.0) -> Deadline:
    """The time left in this Lambda invocation, less a margin to record results."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        value = remaining_ms()
        if isinstance(value, int | float) and value > 0:
            return Deadline(max(1.0, value / 1000 - margin))
    return Deadline(float(os.environ.get("WORKER_BUDGET_SECONDS", fallback)))
