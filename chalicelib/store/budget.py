"""Xero's per-organisation rate limits as one shared budget item, so every Lambda spends from one purse.

Xero counts per tenant: calls per minute and per day in fixed windows that start at the first
call after the previous window ended, and calls in flight. We keep the same model in DynamoDB:

    pk BUDGET#{tenant_id}   sk BUDGET   entity BUDGET   tenant_id
    minute_start, minute_used   the open minute window (epoch seconds) and the calls reserved in it
    day_start, day_used         the same for the 24-hour window
    lease_{i}                   {owner, expires_at}: slot i (0 <= i < concurrent limit) is in flight
    blocked_until, blocked_problem   from Xero's last 429 (Retry-After, X-Rate-Limit-Problem)
    ttl                         two days after the last write (the item is rebuilt on next use)

Reserving is one conditional UpdateItem that counts the call in both windows (or opens a new
window when the old one ended), takes a free or expired concurrency slot and checks that no 429
block is running. The update's shape depends on the state (continue a window or open one, which
slot), so each repository remembers the last item it saw; a wrong guess fails its condition and
DynamoDB returns the current item with the failure (ReturnValuesOnConditionCheckFailure), which
either says why the budget refuses or lets the next attempt be right.

Our windows stay open WINDOW_MARGIN longer than Xero's: we count a call before Xero does.

Slots are leases: a Lambda that dies mid-call frees its slot when the lease expires. Expiry is
checked in our conditions with the caller's clock, never left to DynamoDB TTL.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.models.budget import Lease, RateBudgetUsage, RateLimits, Reservation
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

ENTITY = "BUDGET"
BUDGET_SK = "BUDGET"
MINUTE = 60.0
DAY = 86400.0
KEEP_SECONDS = 2 * DAY
# We count a call when we reserve it, Xero when it arrives, a little later: our windows are held
# open this much longer, so the first call of our next window never lands in Xero's previous one.
WINDOW_MARGIN = 1.0
# A full set of slots usually frees up within one call's time; suggest trying again this soon.
CONCURRENT_RETRY_SECONDS = 1.0
MAX_ATTEMPTS = 8
WINDOWS = ("minute", "day")


@dataclass(frozen=True)
class _State:
    """The budget item as read, with the helpers every decision needs."""

    starts: Mapping[str, float | None]
    used: Mapping[str, int]
    leases: Mapping[int, tuple[str, float]]
    blocked_until: float | None = None
    blocked_problem: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> _State:
        values = d.from_item(item)
        leases = {}
        for name, lease in values.items():
            if name.startswith("lease_") and isinstance(lease, Mapping):
                leases[int(name.removeprefix("lease_"))] = (str(lease["owner"]), float(lease["expires_at"]))
        return cls(
            starts={w: d.as_float(values.get(f"{w}_start")) for w in WINDOWS},
            used={w: d.as_int(values.get(f"{w}_used")) for w in WINDOWS},
            leases=leases,
            blocked_until=d.as_float(values.get("blocked_until")),
            blocked_problem=values.get("blocked_problem"),
        )

    def is_open(self, window: str, now: float) -> bool:
        start = self.starts.get(window)
        return start is not None and now < start + _span(window)

    def used_now(self, window: str, now: float) -> int:
        return self.used.get(window, 0) if self.is_open(window, now) else 0

    def resets_at(self, window: str, now: float) -> float | None:
        start = self.starts.get(window)
        return start + _span(window) if start is not None and self.is_open(window, now) else None

    def live_slots(self, now: float, limit: int) -> dict[int, float]:
        return {i: exp for i, (_, exp) in self.leases.items() if i < limit and exp > now}

    def free_slots(self, now: float, limit: int) -> list[int]:
        live = self.live_slots(now, limit)
        return [i for i in range(limit) if i not in live]

    def refusal(self, now: float, limits: RateLimits) -> Reservation | None:
        """Why no call may start now, naming the limit that keeps us waiting longest."""
        reasons: list[Reservation] = []
        if self.blocked_until is not None and self.blocked_until > now:
            reasons.append(Reservation(None, self.blocked_problem, self.blocked_until, blocked_by_xero=True))
        for window in WINDOWS:
            reset = self.resets_at(window, now)
            if reset is not None and self.used_now(window, now) >= limits.of(window):
                reasons.append(Reservation(None, window, reset))
        if not self.free_slots(now, limits.concurrent):
            reasons.append(Reservation(None, "concurrent", now + CONCURRENT_RETRY_SECONDS))
        return max(reasons, key=lambda r: r.retry_at or 0.0) if reasons else None


class RateBudgetRepository:
    """Reserve, release and correct the per-tenant Xero budget; read it for the dashboard."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        # The last item seen per tenant: only a guess for shaping the next update (conditions
        # protect against it being stale), and a lower bound for skipping needless corrections.
        self._seen: dict[str, _State] = {}

    # --- calls --------------------------------------------------------------

    def reserve(self, tenant_id: str, owner: str, limits: RateLimits, lease_seconds: float) -> Reservation:
        """Count one call in the minute and day windows and take a concurrency slot, or refuse.

        A refusal is only ever decided on the item DynamoDB returned, never on our memory of it.
        """
        state = self._seen.get(tenant_id)
        now = self._clock()
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            slot = _pick_slot(state, now, limits.concurrent)
            expires_at = now + lease_seconds
            args = _reserve_update(state, tenant_id, now, limits, slot, owner, expires_at)
            new_item = self._update(tenant_id, args)
            if new_item is not None:
                self._seen[tenant_id] = _State.from_item(new_item)
                return Reservation(Lease(tenant_id, slot, owner, expires_at))
            state = self._seen[tenant_id]
            refusal = state.refusal(now, limits)
            if refusal is not None:
                return refusal
        # Every attempt lost a race to another writer: the budget is busy, which is concurrency.
        return Reservation(None, "concurrent", now + CONCURRENT_RETRY_SECONDS)

    def release(self, lease: Lease) -> None:
        """Free the slot; a no-op when the lease expired and someone else holds the slot now."""
        e = d.Expression()
        slot = e.name(f"lease_{lease.slot}")
        e.remove(f"lease_{lease.slot}")
        condition = f"{slot}.{e.name('owner')} = {e.value(lease.owner)}"
        self._update(lease.tenant_id, e.update_args(condition))

    # --- what Xero told us --------------------------------------------------

    def record_remaining(
        self,
        tenant_id: str,
        limits: RateLimits,
        *,
        minute_remaining: int | None = None,
        day_remaining: int | None = None,
    ) -> None:
        """Take Xero's X-MinLimit-Remaining / X-DayLimit-Remaining as the truth when lower than ours.

        Our minute count is raised to `limit - remaining`. Our day count is raised to one less:
        when Xero counts more than we do, its limit is lower than we were told (a Starter-tier app)
        or its day window started before ours (calls made before the budget item existed), and
        then ours may end hours too late. That one call more is then
        refused by Xero with a 429 whose Retry-After says exactly when its day ends (see `block`),
        instead of our window pausing every run long after Xero allows calls again. When both
        counts agree, our own count stops us first and Xero never has to refuse.
        """
        for window, remaining in (("minute", minute_remaining), ("day", day_remaining)):
            if remaining is None:
                continue
            used = limits.of(window) - max(0, remaining) - (1 if window == "day" else 0)
            if used > 0:
                self._raise_used(tenant_id, window, used)

    def block(self, tenant_id: str, retry_after: float, problem: str | None, limits: RateLimits) -> None:
        """Xero answered 429: nobody calls for this organisation until Retry-After has passed.

        For a minute or day 429 the Retry-After also tells exactly when Xero's window ends, so our
        window is moved onto Xero's (full, ending then) and the next one starts in step with it.
        Never shortens a longer block already recorded.
        """
        now = self._clock()
        until = now + max(0.0, retry_after)
        e = d.Expression()
        e.set("blocked_until", until).set("blocked_problem", problem or "unknown")
        if problem in ("minute", "day") and retry_after <= _length(problem):
            # Xero said when its window ends: ours ends then too, with no margin to add.
            e.set(f"{problem}_start", until - _span(problem)).set(f"{problem}_used", limits.of(problem))
        _stamp(e, tenant_id, max(now, until))
        blocked = e.name("blocked_until")
        condition = f"attribute_not_exists({blocked}) OR {blocked} < {e.value(until)}"
        self._update(tenant_id, {**e.update_args(condition), "ReturnValues": "ALL_NEW"})

    # --- dashboard ----------------------------------------------------------

    def usage(self, tenant_id: str, limits: RateLimits) -> RateBudgetUsage:
        response = self._client.get_item(
            TableName=self._table, Key=s.key(_pk(tenant_id), BUDGET_SK), ConsistentRead=True
        )
        state = _State.from_item(response.get("Item", {}))
        now = self._clock()
        day_resets_at = state.resets_at("day", now)
        blocked = state.blocked_until if state.blocked_until and state.blocked_until > now else None
        if blocked is not None and state.blocked_problem == "day":
            day_resets_at = max(day_resets_at or 0.0, blocked)
        return RateBudgetUsage(
            tenant_id=tenant_id,
            day_used=state.used_now("day", now),
            day_limit=limits.day,
            day_resets_at=day_resets_at,
            minute_used=state.used_now("minute", now),
            minute_limit=limits.minute,
            minute_resets_at=state.resets_at("minute", now),
            in_flight=len(state.live_slots(now, limits.concurrent)),
            concurrent_limit=limits.concurrent,
            blocked_until=blocked,
            blocked_problem=state.blocked_problem if blocked is not None else None,
        )

    # --- plumbing -----------------------------------------------------------

    def _raise_used(self, tenant_id: str, window: str, used: int) -> None:
        state = self._seen.get(tenant_id)
        for _ in range(3):
            now = self._clock()
            if state is not None and state.is_open(window, now) and state.used[window] >= used:
                return  # we already count at least that many in this window
            e = d.Expression()
            start, count = e.name(f"{window}_start"), e.name(f"{window}_used")
            floor = e.value(now - _span(window))
            if state is not None and state.is_open(window, now):
                e.set(f"{window}_used", used)
                condition = f"{start} > {floor} AND {count} < {e.value(used)}"
            else:
                e.set(f"{window}_start", now).set(f"{window}_used", used)
                condition = f"attribute_not_exists({start}) OR {start} <= {floor}"
            _stamp(e, tenant_id, now)
            if self._update(tenant_id, {**e.update_args(condition), "ReturnValues": "ALL_NEW"}) is not None:
                return
            state = self._seen[tenant_id]

    def _update(self, tenant_id: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """One conditional UpdateItem. Returns the new item (when asked for), or None when the
        condition failed, after remembering the item DynamoDB returned with the failure."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=s.key(_pk(tenant_id), BUDGET_SK),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **args,
            )
        except ClientError as exc:
            if not d.is_condition_failure(exc):
                raise
            self._seen[tenant_id] = _State.from_item(exc.response.get("Item") or {})
            return None
        item = response.get("Attributes")
        if item is not None:
            self._seen[tenant_id] = _State.from_item(item)
        return item if item is not None else {}


def _pk(tenant_id: str) -> str:
    return s.BUDGET_PREFIX + s._part(tenant_id, "tenant_id")


def _length(window: str) -> float:
    return MINUTE if window == "minute" else DAY


def _span(window: str) -> float:
    """How long we hold a window open: Xero's length plus our margin."""
    return _length(window) + WINDOW_MARGIN


def _pick_slot(state: _State | None, now: float, limit: int) -> int:
    # Random among the free ones, so Lambdas sharing a stale view do not all race for slot 0.
    free = state.free_slots(now, limit) if state is not None else list(range(limit))
    return random.choice(free or list(range(limit)))


def _stamp(e: d.Expression, tenant_id: str, at: float) -> None:
    e.set("entity", ENTITY).set("tenant_id", tenant_id).set(s.TTL, math.ceil(at + KEEP_SECONDS))


def _reserve_update(
    state: _State | None,
    tenant_id: str,
    now: float,
    limits: RateLimits,
    slot: int,
    owner: str,
    expires_at: float,
) -> dict[str, Any]:
    e = d.Expression()
    now_value = e.value(now)
    conditions = []
    for window in WINDOWS:
        start, count = e.name(f"{window}_start"), e.name(f"{window}_used")
        floor = e.value(now - _span(window))
        if state is not None and state.is_open(window, now):
            e.set_raw(f"{window}_used", f"{count} + {e.value(1)}")
            conditions.append(f"{start} > {floor} AND {count} < {e.value(limits.of(window))}")
        else:
            e.set(f"{window}_start", now).set(f"{window}_used", 1)
            conditions.append(f"(attribute_not_exists({start}) OR {start} <= {floor})")
    lease = e.name(f"lease_{slot}")
    e.set(f"lease_{slot}", {"owner": owner, "expires_at": Decimal(repr(expires_at))})
    conditions.append(f"(attribute_not_exists({lease}) OR {lease}.{e.name('expires_at')} <= {now_value})")
    blocked = e.name("blocked_until")
    conditions.append(f"(attribute_not_exists({blocked}) OR {blocked} <= {now_value})")
    _stamp(e, tenant_id, now)
    return {**e.update_args(" AND ".join(conditions)), "ReturnValues": "ALL_NEW"}
