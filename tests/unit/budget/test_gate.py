"""The gate around every Xero call: wait when it is short, otherwise say when to come back."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, RateLimitedError
from chalicelib.http import HttpService, RetryPolicy
from chalicelib.models.budget import RateLimits
from chalicelib.models.sync import TokenSet
from chalicelib.store.budget import WINDOW_MARGIN
from chalicelib.xero.budget import XeroRateGate
from chalicelib.xero.client import XeroClient
from tests.scripted_http import Answer, Reply, prepared, reply, response_to, scripted_session
from tests.unit.budget.conftest import TABLE, TENANT, FakeClock, gate, repository


def answer(status: int = 200, **headers: str) -> requests.Response:
    request = prepared("GET", "https://api.xero.com/api.xro/2.0/Contacts", {"xero-tenant-id": TENANT})
    return response_to(request, Reply(status, headers, {}))


def spend(g: XeroRateGate, n: int) -> None:
    for _ in range(n):
        with g.call(TENANT, Deadline.unlimited()):
            pass


def refusal(g: XeroRateGate, deadline: Deadline | None = None) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as raised, g.call(TENANT, deadline or Deadline.unlimited()):
        pass
    return raised.value


def test_two_gates_on_one_table_are_one_budget(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=4, day=100, concurrent=5)
    first, second = gate(ddb, clock, limits), gate(ddb, clock, limits)
    started = clock.now
    spend(first, 2)
    spend(second, 2)
    clock.advance(30)

    error = refusal(first)

    assert error.problem == "minute"
    assert error.retry_after == pytest.approx(started + 60 + WINDOW_MARGIN - clock.now)
    assert "limit of calls per minute" in error.message
    assert second.usage(TENANT).minute_used == 4


def test_a_short_wait_for_the_next_minute_is_slept_inline(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=2, day=100, concurrent=5)
    g = gate(ddb, clock, limits)
    started = clock.now
    spend(g, 2)
    clock.advance(58)

    spend(g, 1)  # no error: it waited

    assert len(clock.sleeps) == 1
    assert started + 60 + WINDOW_MARGIN <= clock.now <= started + 60 + WINDOW_MARGIN + 0.25
    assert g.usage(TENANT).minute_used == 1


def test_no_inline_wait_longer_than_the_deadline(ddb: Any, clock: FakeClock) -> None:
    g = gate(ddb, clock, RateLimits(minute=1, day=100, concurrent=5))
    spend(g, 1)
    clock.advance(57)

    error = refusal(g, Deadline(2.0))

    assert error.problem == "minute"
    assert clock.sleeps == []


def test_the_daily_limit_says_day_and_when_the_window_resets(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=3, concurrent=5)
    g = gate(ddb, clock, limits)
    started = clock.now
    spend(g, 3)
    clock.advance(86400 - 3)  # resets in 3 s: still not waited inline, the caller decides

    error = refusal(gate(ddb, clock, limits))

    assert error.problem == "day"
    assert error.retry_after == pytest.approx(started + 86400 + WINDOW_MARGIN - clock.now)
    assert "daily limit" in error.message and "when it resets" in error.message
    assert clock.sleeps == []


def test_xero_headers_lower_our_remaining_count(ddb: Any, clock: FakeClock) -> None:
    g = gate(ddb, clock)
    spend(g, 1)

    g.observe(TENANT, answer(200, **{"X-MinLimit-Remaining": "0", "X-DayLimit-Remaining": "4000"}))

    usage = g.usage(TENANT)
    assert (usage.minute_used, usage.day_used) == (60, 999)
    assert refusal(gate(ddb, clock), Deadline(1.0)).problem == "minute"


def test_a_retry_after_blocks_every_caller(ddb: Any, clock: FakeClock) -> None:
    got_429, others = gate(ddb, clock), gate(ddb, clock)

    got_429.observe(TENANT, answer(429, **{"Retry-After": "40", "X-Rate-Limit-Problem": "minute"}))

    error = refusal(others)
    assert (error.problem, error.retry_after) == ("minute", pytest.approx(40))
    assert "Xero's 429" in (error.detail or "")


def test_a_short_retry_after_is_waited_out_by_the_others(ddb: Any, clock: FakeClock) -> None:
    gate(ddb, clock).observe(TENANT, answer(429, **{"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}))
    blocked_until = clock.now + 2

    spend(gate(ddb, clock), 1)

    assert clock.now >= blocked_until and len(clock.sleeps) >= 1


def test_a_daily_429_from_xero_pauses_everyone_until_xero_resets(ddb: Any, clock: FakeClock) -> None:
    gate(ddb, clock).observe(TENANT, answer(429, **{"Retry-After": "5000", "X-Rate-Limit-Problem": "day"}))

    error = refusal(gate(ddb, clock))

    assert (error.problem, error.retry_after) == ("day", pytest.approx(5000))
    assert gate(ddb, clock).usage(TENANT).day_resets_at == pytest.approx(clock.now + 5000)


def test_a_crashed_callers_slot_expires(ddb: Any, clock: FakeClock) -> None:
    limits = RateLimits(minute=60, day=100, concurrent=1)
    crashed = gate(ddb, clock, limits, lease_seconds=20).call(TENANT, Deadline.unlimited())
    crashed.__enter__()  # the Lambda dies inside the call: no __exit__, no release
    survivor = gate(ddb, clock, limits)

    error = refusal(survivor)  # polls (the fake clock moves) for a few seconds, then gives up
    assert error.problem == "concurrent" and 0 < error.retry_after <= 1
    assert sum(clock.sleeps) <= survivor.max_inline_wait

    clock.advance(20)
    spend(survivor, 1)


def test_an_exhausted_deadline_reserves_nothing(ddb: Any, clock: FakeClock) -> None:
    g = gate(ddb, clock)

    with pytest.raises(DeadlineExceededError), g.call(TENANT, Deadline(0)):
        pass

    assert g.usage(TENANT).minute_used == 0


class SeesRefusals:
    """The real repository, raising a flag when it refuses a call for concurrency."""

    def __init__(self, repo: Any, refused: threading.Event) -> None:
        self._repo = repo
        self._refused = refused

    def reserve(self, *args: Any, **kwargs: Any) -> Any:
        reservation = self._repo.reserve(*args, **kwargs)
        if reservation.problem == "concurrent":
            self._refused.set()
        return reservation

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def test_never_more_than_n_calls_in_flight_across_threads(ddb: Any) -> None:
    limits = RateLimits(minute=1000, day=10_000, concurrent=3)
    refused = threading.Event()
    gates = [
        XeroRateGate(
            SeesRefusals(repository(ddb, time.time), refused),
            limits,
            max_inline_wait=60,
            slot_poll=(0.005, 0.02),
        )
        for _ in range(4)  # four Lambdas
    ]
    first_three = threading.Barrier(3)
    in_flight, peak, entered = 0, 0, 0
    lock = threading.Lock()

    def calls(g: XeroRateGate) -> None:
        nonlocal in_flight, peak, entered
        for _ in range(3):
            with g.call(TENANT, Deadline(60)):
                with lock:
                    in_flight += 1
                    entered += 1
                    peak = max(peak, in_flight)
                    first = entered <= 3
                if first:
                    # Hold the first three slots until another caller has been turned away.
                    first_three.wait(timeout=10)
                    refused.wait(timeout=10)
                time.sleep(0.002)  # the call to Xero
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=calls, args=(gates[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert entered == 24
    assert refused.is_set()
    assert peak == 3
    assert gates[0].usage(TENANT).in_flight == 0


# --- through XeroClient ------------------------------------------------------------------------


class FakeTokens:
    """Stands in for TokenManager: one valid token set for the tenant."""

    def current(self, deadline: Deadline) -> TokenSet:
        return TokenSet(provider="xero", access_token="token", refresh_token="r", tenant_id=TENANT)

    def refresh(self, deadline: Deadline, rejected_access_token: str | None = None) -> TokenSet:
        return self.current(deadline)


def client_with(g: XeroRateGate | None, answers: list[Answer], slept: list[float]) -> XeroClient:
    http = HttpService("Xero", scripted_session(answers), retry=RetryPolicy(attempts=3), sleep=slept.append)
    return XeroClient(http, FakeTokens(), api_url="https://api.xero.com", gate=g)  # type: ignore[arg-type]


def ok(**headers: str) -> Answer:
    return reply(200, {"Contacts": []}, **headers)


def too_many(seconds: int, problem: str) -> Answer:
    return reply(429, {}, **{"Retry-After": str(seconds), "X-Rate-Limit-Problem": problem})


def test_every_client_call_spends_from_the_budget_and_feeds_headers_back(ddb: Any, clock: FakeClock) -> None:
    g = gate(ddb, clock)
    client = client_with(g, [ok(), ok(**{"X-MinLimit-Remaining": "30", "X-DayLimit-Remaining": "4990"})], [])

    client.find_active_by_name("Acme", Deadline(10))
    client.find_active_by_name("Acme", Deadline(10))

    usage = g.usage(TENANT)
    assert (usage.minute_used, usage.day_used, usage.in_flight) == (30, 9, 0)  # Xero's counts (day: less one)


def test_a_long_429_still_raises_and_now_blocks_every_lambda(ddb: Any, clock: FakeClock) -> None:
    slept: list[float] = []
    client = client_with(gate(ddb, clock), [too_many(3600, "day")], slept)

    with pytest.raises(RateLimitedError) as raised:
        client.find_active_by_name("Acme", Deadline(10))

    assert (raised.value.problem, raised.value.retry_after) == ("day", 3600)  # http.py's answer, as before
    assert slept == []
    other = refusal(gate(ddb, clock))
    assert (other.problem, other.retry_after) == ("day", pytest.approx(3600))


def test_a_short_429_is_recorded_then_retried_inline_as_before(ddb: Any, clock: FakeClock) -> None:
    slept: list[float] = []
    client = client_with(gate(ddb, clock), [too_many(2, "minute"), ok()], slept)

    assert client.find_active_by_name("Acme", Deadline(10)) == []

    assert slept == [2.0]
    assert gate(ddb, clock).usage(TENANT).blocked_until == pytest.approx(clock.now + 2)


def test_without_a_gate_the_client_spends_nothing(ddb: Any, clock: FakeClock) -> None:
    client = client_with(None, [ok()], [])

    client.find_active_by_name("Acme", Deadline(10))

    assert ddb.scan(TableName=TABLE)["Count"] == 0
