"""The portal's dashboard: is everything connected, what ran last, what runs next.

Each part is read on its own and a part that cannot be read says so in plain words
instead of taking the page down (a dashboard is most needed when something is broken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.models.runs import Run
from chalicelib.models.sync import TokenSet
from chalicelib.models.tokens import TokenStatus

logger = logging.getLogger(__name__)

PROVIDERS = {"xero": "Xero", "zoho": "Zoho CRM"}


class Health(StrEnum):
    CONNECTED = "connected"
    ATTENTION = "attention"  # connected once, but the last refresh failed: reconnect
    NOT_CONNECTED = "not_connected"


@dataclass(frozen=True)
class ConnectionHealth:
    provider: str
    label: str
    health: Health
    summary: str  # one plain sentence for the card
    organisation: str | None = None  # Xero organisation name (or tenant id), Zoho API host
    refreshed_at: datetime | None = None
    access_valid_until: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class BudgetUsage:
    used: int
    limit: int
    resets_at: datetime | None = None  # when the day's window ends (None: no call yet today)
    blocked_until: datetime | None = None  # Xero answered 429: nothing is sent before this

    @property
    def percent(self) -> int:
        return 0 if self.limit <= 0 else min(100, round(100 * self.used / self.limit))


@dataclass
class Dashboard:
    connections: list[ConnectionHealth]
    last_run: Run | None = None
    active_run: Run | None = None
    next_run_at: datetime | None = None
    dead_letters: int | None = None
    budget: BudgetUsage | None = None
    problems: list[str] = field(default_factory=list)  # parts that could not be read, in plain words


class TokenReader(Protocol):
    def describe(self, provider: str) -> TokenStatus | None: ...
    def get(self, provider: str) -> TokenSet | None: ...


class RunReader(Protocol):
    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]: ...
    def dead_letters(self) -> int: ...
    def next_scheduled_at(self) -> str | None: ...


class DashboardService:
    def __init__(
        self,
        tokens: TokenReader,
        *,
        runs: Callable[[], RunReader | None] = lambda: None,
        budget: Callable[[str], BudgetUsage | None] | None = None,
        organisation_name: Callable[[str], str | None] = lambda tenant_id: None,
        seeded: Callable[[str], bool] = lambda provider: False,
    ) -> None:
        self.tokens = tokens
        self.runs = runs
        self.budget = budget
        self.organisation_name = organisation_name
        self.seeded = seeded

    def build(self) -> Dashboard:
        board = Dashboard(connections=[])
        tenant_id: str | None = None
        for provider in PROVIDERS:
            health, tenant = self._connection(provider, board)
            board.connections.append(health)
            tenant_id = tenant_id or tenant
        self._runs(board)
        budget, tenant_with_budget = self.budget, tenant_id
        if budget is not None and tenant_with_budget:
            board.budget = self._safely(board, "the Xero rate budget", lambda: budget(tenant_with_budget))
        return board

    def connection(self, provider: str) -> ConnectionHealth:
        return self._connection(provider, Dashboard(connections=[]))[0]

    # --- parts ---------------------------------------------------------------------------

    def _connection(self, provider: str, board: Dashboard) -> tuple[ConnectionHealth, str | None]:
        label = PROVIDERS[provider]
        try:
            status = self.tokens.describe(provider)
            stored = self.tokens.get(provider) if status else None
        except Exception:
            logger.exception("reading the token status failed", extra={"provider": provider})
            board.problems.append(f"The {label} connection status could not be read just now.")
            return ConnectionHealth(provider, label, Health.ATTENTION, "Status unavailable; try again."), None
        tenant = stored.tenant_id if stored else None
        place = self._place(provider, stored)
        if status is None or not status.has_refresh_token:
            if self.seeded(provider):
                summary = f"Configured from settings; {label} connects on the first sync."
                return ConnectionHealth(provider, label, Health.CONNECTED, summary), tenant
            summary = f"Not connected. Connect {label} so the service can read and write."
            return ConnectionHealth(provider, label, Health.NOT_CONNECTED, summary), tenant
        where = f" to {place}" if place else ""
        connected = ConnectionHealth(
            provider,
            label,
            Health.CONNECTED,
            f"Connected{where}.",
            organisation=place,
            refreshed_at=_at(status.refreshed_at),
            access_valid_until=_at(status.expires_at) if status.expires_at else None,
            last_error=status.last_error,
            last_error_at=_at(status.last_error_at),
        )
        if status.last_error:
            return replace(connected, health=Health.ATTENTION, summary=status.last_error), tenant
        return connected, tenant

    def _place(self, provider: str, stored: TokenSet | None) -> str | None:
        if stored is None:
            return None
        if provider == "zoho":
            return stored.api_domain
        tenant = stored.tenant_id
        if not tenant:
            return None
        try:
            return self.organisation_name(tenant) or tenant
        except Exception:
            return tenant

    def _runs(self, board: Dashboard) -> None:
        runs = self._safely(board, "the sync runs", self.runs)
        if runs is None:
            return
        listed = self._safely(board, "the last run", lambda: runs.list(limit=5)[0]) or []
        board.active_run = next((r for r in listed if not r.state.finished), None)
        board.last_run = next((r for r in listed if r.state.finished), None)
        board.next_run_at = _parse(self._safely(board, "the next scheduled run", runs.next_scheduled_at))
        board.dead_letters = self._safely(board, "the dead-letter queue", runs.dead_letters)

    def _safely(self, board: Dashboard, what: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except Exception:
            logger.exception("dashboard part failed", extra={"part": what})
            board.problems.append(f"Could not read {what} just now.")
            return None


def budget_usage(usage: Any) -> BudgetUsage:
    """The dashboard's view of a RateBudgetRepository.usage() answer."""
    return BudgetUsage(
        used=int(usage.day_used),
        limit=int(usage.day_limit),
        resets_at=_at(usage.day_resets_at),
        blocked_until=_at(usage.blocked_until),
    )


def _at(epoch: float | None) -> datetime | None:
    return None if not epoch else datetime.fromtimestamp(epoch, tz=UTC)


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
