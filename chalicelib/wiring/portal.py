"""What only the portal's pages read: the dashboard."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.wiring.runs import RunServices

if TYPE_CHECKING:
    from chalicelib.services.dashboard import BudgetUsage, DashboardService


class PortalServices(RunServices):
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
