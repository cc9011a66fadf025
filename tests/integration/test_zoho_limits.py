"""Zoho CRM's API limits from our side: calls in flight kept under the edition's cap, credits
counted like Zoho counts them, and spent credits pausing a run until they come back.

The client tests use the real HttpService plumbing against the Zoho stand-in with its limits on;
the last test goes through the whole stack (runs queue, run worker, DynamoDB in moto).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import RateLimitedError
from chalicelib.http import RetryPolicy, session
from chalicelib.zoho.client import ZohoClient
from chalicelib.zoho.limits import CREDITS_PROBLEM, ZohoHttpService, call_credits, coql_credits
from sandbox.common import Fault
from sandbox.seed_data import account_id
from sandbox.stack import LocalStack
from tests.integration.test_rate_budget import ZohoToken
from tests.integration.test_runs import admin, drive, runs_queue, start, status  # noqa: F401


def zoho(zoho_sandbox: Any, concurrent_limit: int = 10) -> tuple[ZohoClient, ZohoHttpService]:
    http = ZohoHttpService(
        "Zoho CRM",
        session(concurrent_limit),
        timeout=10,
        retry=RetryPolicy(attempts=3, base_delay=0.02),
        concurrent_limit=concurrent_limit,
        credits_retry_seconds=1800,
    )
    return ZohoClient(http, ZohoToken(zoho_sandbox)), http  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "credits"),
    [
        ("select id from Accounts where id is not null", 1),  # no LIMIT: 200 rows
        ("select id from Accounts where id is not null limit 200", 1),
        ("select id from Accounts where id is not null LIMIT 201", 2),
        ("select id from Accounts where id is not null limit 1000 offset 2000", 2),
        ("select id from Accounts where id is not null limit 4000, 2000", 3),
    ],
)
def test_coql_costs_by_page_size(query: str, credits: int) -> None:
    assert coql_credits(query) == credits


def test_writes_cost_one_credit_per_ten_records() -> None:
    assert call_credits("PUT", "https://z/crm/v8/Accounts", {"data": [{}] * 100}) == 10
    assert call_credits("POST", "https://z/crm/v8/Contacts", {"data": [{}] * 11}) == 2
    assert call_credits("PUT", "https://z/crm/v8/Accounts", {"data": [{}]}) == 1
    assert call_credits("GET", "https://z/crm/v8/Accounts/1", None) == 1


def test_our_credit_count_matches_zohos(zoho_sandbox: Any) -> None:
    client, http = zoho(zoho_sandbox)
    deadline = Deadline(30)
    client.coql("select id from Accounts where id is not null limit 2000", deadline)
    client.update_accounts([{"id": account_id(1), "Phone": "+61 2 5550 0001"}] * 25, deadline)
    client.get_record("Accounts", account_id(1), ["Account_Name"], deadline)

    assert http.credits == zoho_sandbox.app.credits_used() == 3 + 3 + 1
    assert http.credits_in_this_thread() == 7


def test_spent_credits_pause_at_once_and_say_so(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(edition="free")
    zoho_sandbox.app.credits.spend(zoho_sandbox.app.clock.now(), 5_000)
    client, http = zoho(zoho_sandbox)

    with pytest.raises(RateLimitedError) as raised:
        client.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(30))

    assert raised.value.problem == CREDITS_PROBLEM
    assert raised.value.retry_after == 1800
    assert "API credits for the last 24 hours are used up" in raised.value.message
    assert http.calls == 1  # no retries in-process: they would only be refused again
    assert http.credits == 0


def test_calls_in_flight_stay_under_the_editions_cap(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(edition="free")  # 5 calls in flight
    zoho_sandbox.app.faults.add(Fault(count=12, delay=0.3, path_prefix="/crm/"))
    client, _ = zoho(zoho_sandbox, concurrent_limit=5)
    names: list[str] = []

    def fetch() -> None:
        record = client.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(30))
        names.append((record or {})["Account_Name"])

    threads = [threading.Thread(target=fetch) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(names) == 12
    assert not [c for c in zoho_sandbox.app.calls() if c["status"] == 429]
    assert zoho_sandbox.app.concurrency.peak == 5


# --- the whole stack ---------------------------------------------------------------------------


@pytest.fixture
def zoho_credits(live: LocalStack) -> Iterator[Callable[[int], None]]:
    def limit(credits: int) -> None:
        live.zoho.configure(daily_credits=credits)

    yield limit
    live.zoho.configure(daily_credits=1_000_000)


def test_spent_zoho_credits_pause_the_run_and_it_resumes(
    live: LocalStack,
    start: Callable[..., httpx.Response],  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
    status: Callable[[str], dict[str, Any]],  # noqa: F811
    zoho_credits: Callable[[int], None],
) -> None:
    live.zoho.generate(60, seed=7)  # with the seed: two batches of 50
    run_id = start("all").json()["run_id"]
    drive(run_id, until=lambda r: r.batches_done >= 1)
    zoho_credits(live.zoho.credits_used())  # every credit of the day is spent

    drive(run_id, until=lambda r: r.state.value == "waiting")
    seen = status(run_id)

    assert "Zoho CRM's API credits" in seen["message"] and "nothing is lost" in seen["message"]
    assert seen["resume_at"]
    assert seen["counts"]["failed"] == 0
    assert seen["progress"]["batches_done"] < seen["progress"]["batches_total"]

    live.zoho.clock.advance(86_400)  # the rolling window frees the credits
    run = drive(run_id)

    assert run["state"] == "completed_with_errors"  # the seed's rejected Accounts
    assert run["counts"]["failed"] == 0
    assert run["progress"]["batches_done"] == run["progress"]["batches_total"] == 2
    live.zoho.clock.advance(-86_400)


def test_a_run_reports_the_zoho_credits_it_spent(
    live: LocalStack,
    start: Callable[..., httpx.Response],  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    live.zoho.generate(120, seed=3)
    run = drive(start("all").json()["run_id"])

    assert run["credits"]["zoho"] == live.zoho.credits_used() > 0
    assert run["credits"]["zoho"] >= run["calls"]["zoho"] - 1  # at most the token call is free
