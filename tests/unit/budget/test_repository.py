"""The shared budget item: windows, slots as leases, Xero's corrections, the dashboard read."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.models.budget import RateLimits
from chalicelib.store.budget import WINDOW_MARGIN, RateBudgetRepository
from tests.unit.budget.conftest import TABLE, TENANT, CountingClient, FakeClock, repository

SMALL = RateLimits(minute=3, day=5, concurrent=2)


def take(repo: RateBudgetRepository, limits: RateLimits = SMALL, owner: str = "caller", lease: float = 30.0):
    """Reserve and release at once: one call that has finished."""
    reservation = repo.reserve(TENANT, owner, limits, lease)
    if reservation.lease is not None:
        repo.release(reservation.lease)
    return reservation


def test_the_minute_window_refuses_the_call_over_the_limit_until_it_resets(
    ddb: Any, clock: FakeClock
) -> None:
    repo = repository(ddb, clock)
    started = clock.now
    for _ in range(3):
        assert take(repo).granted
        clock.advance(10)

    refused = take(repo)

    assert not refused.granted
    assert refused.problem == "minute"
    assert refused.retry_at == started + 60 + WINDOW_MARGIN
    clock.now = refused.retry_at
    assert take(repo).granted
    assert repo.usage(TENANT, SMALL).minute_used == 1  # a new window
    assert repo.usage(TENANT, SMALL).day_used == 4  # the day goes on


def test_the_day_window_refuses_with_its_own_reset_time(ddb: Any, clock: FakeClock) -> None:
    repo = repository(ddb, clock)
    started = clock.now
    for _ in range(5):
        assert take(repo).granted
        clock.advance(61)  # never the minute limit

    refused = take(repo)

    assert (refused.granted, refused.problem) == (False, "day")
    assert refused.retry_at == started + 86400 + WINDOW_MARGIN
    clock.now = refused.retry_at
    assert take(repo).granted


def test_two_lambdas_spend_from_one_budget(ddb: Any, clock: FakeClock) -> None:
    first, second = repository(ddb, clock), repository(ddb, clock)

    assert take(first).granted
    assert take(second).granted
    assert take(first).granted

    assert take(second).problem == "minute"
    assert take(first).problem == "minute"
    assert first.usage(TENANT, SMALL).minute_used == 3


def test_at_most_n_calls_are_in_flight_and_a_release_frees_a_slot(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=100, concurrent=2)
    repo = repository(ddb, clock)
    a = repo.reserve(TENANT, "a", limits, 30)
    b = repository(ddb, clock).reserve(TENANT, "b", limits, 30)

    refused = repo.reserve(TENANT, "c", limits, 30)

    assert a.granted and b.granted and a.lease.slot != b.lease.slot
    assert (refused.granted, refused.problem) == (False, "concurrent")
    assert repo.usage(TENANT, limits).in_flight == 2
    repo.release(a.lease)
    assert repo.reserve(TENANT, "c", limits, 30).granted


def test_a_crashed_callers_slot_comes_back_when_its_lease_expires(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=100, concurrent=1)
    crashed = repository(ddb, clock).reserve(TENANT, "crashed-lambda", limits, 30)
    assert crashed.granted  # ...and never released
    survivor = repository(ddb, clock)

    clock.advance(29.9)
    assert survivor.reserve(TENANT, "survivor", limits, 30).problem == "concurrent"
    clock.advance(0.1)
    late = survivor.reserve(TENANT, "survivor", limits, 30)

    assert late.granted
    repository(ddb, clock).release(crashed.lease)  # the crashed one's late release frees nothing
    assert survivor.reserve(TENANT, "third", limits, 30).problem == "concurrent"


def test_xero_lower_remaining_counts_replace_ours(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    for _ in range(2):
        take(repo, limits)

    repo.record_remaining(TENANT, limits, minute_remaining=10, day_remaining=900)

    usage = repository(ddb, clock).usage(TENANT, limits)
    assert (usage.minute_used, usage.day_used) == (50, 99)  # one daily call left for Xero to refuse


def test_xero_higher_remaining_counts_change_nothing(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    for _ in range(5):
        take(repo, limits)

    repository(ddb, clock).record_remaining(TENANT, limits, minute_remaining=58, day_remaining=996)

    usage = repo.usage(TENANT, limits)
    assert (usage.minute_used, usage.day_used) == (5, 5)


def test_headers_fill_the_minute_but_leave_the_last_daily_call_for_xero_to_refuse(
    ddb: Any, clock: FakeClock
) -> None:
    """Xero's day window may end long before ours; its 429 on that call says exactly when."""
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    take(repo, limits)

    repo.record_remaining(TENANT, limits, minute_remaining=0, day_remaining=0)

    assert take(repo, limits).problem == "minute"
    clock.advance(61)
    assert take(repo, limits).granted  # the 1000th call of the day goes to Xero
    assert take(repo, limits).problem == "day"


def test_headers_open_a_window_when_ours_has_ended(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    take(repo, limits)
    clock.advance(120)

    repo.record_remaining(TENANT, limits, minute_remaining=20)

    assert repo.usage(TENANT, limits).minute_used == 40


def test_a_429_blocks_every_caller_until_retry_after(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits()
    repository(ddb, clock).block(TENANT, 30, "concurrent", limits)
    other = repository(ddb, clock)

    refused = other.reserve(TENANT, "other", limits, 30)

    assert (refused.granted, refused.problem, refused.blocked_by_xero) == (False, "concurrent", True)
    assert refused.retry_at == clock.now + 30
    clock.advance(30)
    assert other.reserve(TENANT, "other", limits, 30).granted


def test_a_shorter_block_never_cuts_a_longer_one(ddb: Any, clock: FakeClock) -> None:
    repo = repository(ddb, clock)
    repo.block(TENANT, 3600, "day", RateLimits())
    repo.block(TENANT, 2, "minute", RateLimits())

    usage = repo.usage(TENANT, RateLimits())

    assert (usage.blocked_until, usage.blocked_problem) == (clock.now + 3600, "day")


def test_a_daily_429_sets_our_day_window_to_end_when_xeros_does(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    take(repo, limits)
    clock.advance(100)

    repo.block(TENANT, 7200, "day", limits)

    usage = repo.usage(TENANT, limits)
    assert usage.day_used == 1000
    assert usage.day_resets_at == pytest.approx(clock.now + 7200)
    clock.advance(7200)
    assert take(repo, limits).granted
    assert repo.usage(TENANT, limits).day_resets_at == pytest.approx(clock.now + 86400 + WINDOW_MARGIN)


def test_usage_for_the_dashboard(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=1000, concurrent=5)
    repo = repository(ddb, clock)
    started = clock.now
    for _ in range(3):
        take(repo, limits)
    in_flight = repo.reserve(TENANT, "busy", limits, 30)
    repo.block(TENANT, 20, "minute", limits)

    usage = repository(ddb, clock).usage(TENANT, limits)

    assert in_flight.granted
    assert usage.day_used == 4 and usage.day_limit == 1000 and usage.day_remaining == 996
    assert usage.day_resets_at == started + 86400 + WINDOW_MARGIN
    assert usage.minute_used == 60  # the 429 told us the minute is full
    assert usage.in_flight == 1 and usage.concurrent_limit == 5
    assert (usage.blocked_until, usage.blocked_problem) == (clock.now + 20, "minute")


def test_usage_of_an_organisation_never_called(ddb: Any, clock: FakeClock) -> None:
    usage = repository(ddb, clock).usage(TENANT, RateLimits())

    assert (usage.day_used, usage.minute_used, usage.in_flight) == (0, 0, 0)
    assert usage.day_resets_at is None and usage.blocked_until is None


def test_item_layout(ddb: Any, clock: FakeClock) -> None:
    reservation = repository(ddb, clock).reserve(TENANT, "owner-1", RateLimits(), 30)

    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"BUDGET#{TENANT}"}, "sk": {"S": "BUDGET"}})["Item"]

    assert item["entity"] == {"S": "BUDGET"}
    assert item["tenant_id"] == {"S": TENANT}
    assert item["minute_used"] == {"N": "1"} and item["day_used"] == {"N": "1"}
    lease = item[f"lease_{reservation.lease.slot}"]["M"]
    assert lease["owner"] == {"S": "owner-1"}
    assert float(lease["expires_at"]["N"]) == clock.now + 30
    assert int(item["ttl"]["N"]) >= clock.now + 86400


def test_a_warm_reservation_and_a_release_cost_one_dynamodb_call_each(ddb: Any, clock: FakeClock) -> None:
    counting = CountingClient(ddb)
    repo = RateBudgetRepository(counting, TABLE, clock=clock)
    take(repo, RateLimits())
    counting.calls.clear()

    reservation = repo.reserve(TENANT, "warm", RateLimits(), 30)
    after_reserve = list(counting.calls)
    repo.release(reservation.lease)

    assert after_reserve == ["update_item"]
    assert counting.calls == ["update_item", "update_item"]


def test_a_cold_lambda_learns_the_budget_from_its_first_failed_write(ddb: Any, clock: FakeClock) -> None:
    take(repository(ddb, clock), RateLimits())
    counting = CountingClient(ddb)
    cold = RateBudgetRepository(counting, TABLE, clock=clock)

    assert cold.reserve(TENANT, "cold", RateLimits(), 30).granted

    assert counting.calls == ["update_item", "update_item"]  # no read first: the failure returns the item
    assert cold.usage(TENANT, RateLimits()).minute_used == 2
