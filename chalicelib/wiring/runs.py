"""Bulk runs (services/runs/): the engine, its batches, the Xero-side pages, the summary e-mail."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.wiring.sync import SyncServices

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.models.runs import Run
    from chalicelib.services.both_runs import BothRuns
    from chalicelib.services.bulk_sync import BatchSyncer
    from chalicelib.services.notify import RunSummaryNotifier
    from chalicelib.services.runs import RunService
    from chalicelib.services.xero_runs import XeroRuns


class RunServices(SyncServices):
    @cached_property
    def runs(self) -> RunService:
        from chalicelib.services.runs import RunDependencies, RunService

        s = self.settings
        return RunService(
            RunDependencies(
                runs=self.run_store,
                queue=self.run_queue,
                zoho=self.zoho,
                xero=self.xero,
                batches=self.batches,
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

    @cached_property
    def batches(self) -> BatchSyncer:
        """Zoho CRM → Xero for a run's batch of Accounts, the odd one left to the single syncer."""
        from chalicelib.services.bulk_sync import BatchSyncer, BulkDependencies

        return BatchSyncer(
            BulkDependencies(
                zoho=self.zoho,
                xero=self.xero,
                states=self.states,
                history=self.history,
                field_map=self.field_map,
                links=self.xero_links,
                single=self.syncer,
            )
        )

    @cached_property
    def xero_runs(self) -> XeroRuns:
        from chalicelib.services.xero_runs import XeroRuns

        return XeroRuns(self.xero_inbound, self.run_store, self.field_map)

    @cached_property
    def both_runs(self) -> BothRuns:
        """A `both` run's batches: linked pairs merged (whatever SYNC_MODE says), the rest one way."""
        from chalicelib.services.both_run_writes import MergerDependencies, PairMerger
        from chalicelib.services.both_runs import BothRunDependencies, BothRuns

        merger = PairMerger(
            MergerDependencies(
                zoho=self.zoho,
                xero=self.xero,
                snapshots=self.snapshots,
                history=self.history,
                both=self.pair_merge,
                field_map=self.field_map,
                contact_url=self.xero_links.contact_url,
            )
        )
        return BothRuns(
            BothRunDependencies(
                xero=self.xero,
                states=self.states,
                snapshots=self.snapshots,
                merger=merger,
                xero_runs=self.xero_runs,
                batches=self.batches,
            )
        )

    @property
    def run_notifier(self) -> Callable[[Run], None]:
        """Called with each finished run: the e-mail summary (sends nothing without recipients)."""
        return self._send_summary

    def _send_summary(self, run: Run) -> None:
        self.summary_notifier.notify(run)

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
