"""The shared Xero rate budget against the stand-ins with their rate limits on.

Most tests build the Xero client the way wiring does (real HttpService, real token manager,
real budget in moto) against the in-process Xero stand-in, and share the stand-in's movable
clock with our budget: a gate's "sleep" moves that clock, so minute windows pass in no time and
both sides agree on when they do. The last tests go through the whole stack over HTTP.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import RateLimitedError
from chalicelib.http import HttpService, RetryPolicy, session
from chalicelib.models.budget import RateLimits
from chalicelib.models.sync import TokenSet
from chalicelib.oauth import TokenManager
from chalicelib.store.budget import RateBudgetRepository
from chalicelib.store.schema import create_table
from chalicelib.store.tokens import TokenRepository
from chalicelib.xero.auth import XeroIdentity
from chalicelib.xero.budget import XeroRateGate
from chalicelib.xero.client import XeroClient
from chalicelib.zoho.client import ZohoClient
from sandbox.common import Fault
from sandbox.seed_data import XERO_TENANT_ID, account_id
from tests.integration.sandbox_api import Xero, acct

TABLE = "rate-budget-itest"
CONTACTS = "/api.xro/2.0/Contacts"


@pytest.fixture
def ddb(stack: Any) -> Any:
    """A fresh table of our own on the stack's moto server. (In-process `mock_aws` would reset
    moto's backends, which the package's running stack shares, under the other tests' feet.)"""
    client = boto3.client("dynamodb")
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_table(TableName=TABLE)
    create_table(client, TABLE)
    return client


class Lambdas:
    """Builds one Lambda's Xero client at a time: its own HTTP client, gate and budget memory,
    sharing the table (tokens and budget) and the stand-in's clock with every other one."""

    def __init__(self, xero_sandbox: Any, ddb: Any, limits: RateLimits) -> None:
        self.url = xero_sandbox.url
        self.clock = xero_sandbox.app.clock
        self.ddb = ddb
        self.limits = limits
        self.refusals: list[RateLimitedError] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        """Waiting for a slot is real (a real call must end); waiting for a window moves the clock."""
        if seconds <= 0.05:
            time.sleep(seconds)
        self.clock.advance(seconds)

    def client(self) -> XeroClient:
        http = HttpService("Xero", session(5), timeout=10, sleep=self.sleep)
        identity = XeroIdentity(
            http,
            identity_url=self.url,
            api_url=self.url,
            client_id="sandbox-xero-client-id",
            client_secret="sandbox-xero-client-secret",
        )
        tokens = TokenManager(
            "xero",
            TokenRepository(self.ddb, TABLE),
            identity.exchange,
            seed_refresh_token="sandbox-xero-refresh-token",
            not_connected_message="Xero is not connected yet.",
            lease_seconds=5,
            poll_seconds=0.05,
        )
        gate = XeroRateGate(
            RateBudgetRepository(self.ddb, TABLE, clock=self.clock.now),
            self.limits,
            sleep=self.sleep,
            clock=self.clock.now,
            lease_seconds=3600,  # nobody crashes here, and the simulated clock runs fast
            slot_poll=(0.005, 0.02),
        )
        return XeroClient(http, tokens, api_url=self.url, gate=gate)

    def sync(self, client: XeroClient, n: int) -> None:
        """A queued sync: a RateLimitedError goes back to the queue, which brings the message back
        after `retry_after`."""
        while True:
            try:
                sync_once(client, n)
                return
            except RateLimitedError as error:
                with self._lock:
                    self.refusals.append(error)
                self.clock.advance(error.retry_after or 1.0)


def sync_once(client: XeroClient, n: int) -> None:
    """One Account's sync as far as Xero sees it: a lookup and a write."""
    number = f"RB-{n:04d}"
    client.get_contact(number, Deadline(30))
    results = client.save_contacts(
        [{"Name": f"Rate Budget {n}", "ContactNumber": number}],
        idempotency_key=str(uuid.uuid4()),
        deadline=Deadline(30),
    )
    assert results[0].ok, results[0].errors


def rate_limited_answers(xero_sandbox: Any) -> list[dict[str, Any]]:
    return [c for c in xero_sandbox.app.calls() if c.get("status") == 429 or c.get("rate_limited")]


def tenant_calls(xero_sandbox: Any) -> int:
    return sum(1 for c in xero_sandbox.app.calls() if c.get("tenant"))


def xero_day_resets_at(xero_sandbox: Any) -> float:
    return xero_sandbox.app.limiter.usage(XERO_TENANT_ID).day.start + 86400


def test_many_lambdas_syncing_at_once_never_get_a_429(xero_sandbox: Any, ddb: Any) -> None:
    lambdas = Lambdas(xero_sandbox, ddb, RateLimits())
    # Every Contacts call takes a little while, so the six Lambdas really overlap at Xero.
    xero_sandbox.app.add_fault(delay=0.01, count=10_000, path_prefix=CONTACTS)

    def work(first: int) -> None:
        client = lambdas.client()
        for n in range(first, first + 6):
            lambdas.sync(client, n)

    threads = [threading.Thread(target=work, args=(i * 6,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    synced = [c for c in xero_sandbox.app.contacts() if str(c.get("ContactNumber", "")).startswith("RB-")]
    assert len(synced) == 36
    assert tenant_calls(xero_sandbox) >= 72  # two calls a sync: more than a minute's worth
    assert rate_limited_answers(xero_sandbox) == []
    assert any(e.problem == "minute" for e in lambdas.refusals)  # our budget, not Xero, said wait


def test_the_daily_limit_pauses_with_the_time_xero_resets(xero_sandbox: Any, ddb: Any) -> None:
    xero_sandbox.app.configure(day_limit=10)
    lambdas = Lambdas(xero_sandbox, ddb, RateLimits(day=10))
    client = lambdas.client()

    with pytest.raises(RateLimitedError) as raised:
        for n in range(10):
            sync_once(client, n)

    assert raised.value.problem == "day"
    assert raised.value.retry_after == pytest.approx(
        xero_day_resets_at(xero_sandbox) - xero_sandbox.app.clock.now(), abs=2
    )
    assert "daily limit" in raised.value.message
    assert tenant_calls(xero_sandbox) == 10 and rate_limited_answers(xero_sandbox) == []

    xero_sandbox.app.clock.advance(raised.value.retry_after)
    lambdas.sync(client, 99)  # the next day
    assert xero_sandbox.app.contact("RB-0099") is not None


def test_a_starter_tier_limit_we_were_not_told_about_costs_one_429(xero_sandbox: Any, ddb: Any) -> None:
    """XERO_DAY_LIMIT left at 5000 while Xero allows 10: its headers and one 429 teach every Lambda."""
    xero_sandbox.app.configure(day_limit=10)
    lambdas = Lambdas(xero_sandbox, ddb, RateLimits())
    first = lambdas.client()

    with pytest.raises(RateLimitedError) as raised:
        for n in range(10):
            sync_once(first, n)
    calls_so_far = len(xero_sandbox.app.calls())
    with pytest.raises(RateLimitedError) as other:
        lambdas.client().get_contact("RB-0001", Deadline(30))  # another Lambda

    assert len(rate_limited_answers(xero_sandbox)) == 1
    assert (raised.value.problem, other.value.problem) == ("day", "day")
    resets_in = xero_day_resets_at(xero_sandbox) - xero_sandbox.app.clock.now()
    assert other.value.retry_after == pytest.approx(resets_in, abs=2)
    assert len(xero_sandbox.app.calls()) == calls_so_far  # nothing more reached Xero
    usage = first.gate.usage(XERO_TENANT_ID)
    assert usage.blocked_problem == "day"
    assert usage.day_resets_at == pytest.approx(xero_day_resets_at(xero_sandbox), abs=2)


# --- Zoho: no shared budget; 429s back off with full jitter (chalicelib/http.py) -----------------


class ZohoToken:
    """A live token minted by the stand-in (the token manager is tested elsewhere)."""

    def __init__(self, zoho_sandbox: Any) -> None:
        self._token = TokenSet(
            provider="zoho", access_token=zoho_sandbox.app.access_token(), api_domain=zoho_sandbox.url
        )

    def current(self, deadline: Deadline) -> TokenSet:
        return self._token

    def refresh(self, deadline: Deadline, rejected_access_token: str | None = None) -> TokenSet:
        return self._token


def zoho_client(zoho_sandbox: Any, retry: RetryPolicy, sleeps: dict[int, list[float]]) -> ZohoClient:
    def sleep(seconds: float) -> None:
        sleeps.setdefault(threading.get_ident(), []).append(seconds)
        time.sleep(seconds)

    http = HttpService("Zoho CRM", session(10), timeout=10, retry=retry, sleep=sleep)
    return ZohoClient(http, ZohoToken(zoho_sandbox))  # type: ignore[arg-type]


def test_zoho_concurrency_429s_back_off_with_full_jitter(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(concurrency_limit=2)
    zoho_sandbox.app.faults.add(Fault(count=2, delay=0.2, path_prefix="/crm/"))
    retry = RetryPolicy(attempts=8, base_delay=0.02, max_delay=0.2)
    sleeps: dict[int, list[float]] = {}
    client = zoho_client(zoho_sandbox, retry, sleeps)

    def fetch() -> Any:
        return client.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(30))

    answers: list[Any] = []

    slow = [threading.Thread(target=lambda: answers.append(fetch())) for _ in range(2)]
    for thread in slow:
        thread.start()
    ends = time.monotonic() + 5
    while zoho_sandbox.app.concurrency.in_flight < 2 and time.monotonic() < ends:
        time.sleep(0.005)
    burst = [threading.Thread(target=lambda: answers.append(fetch())) for _ in range(4)]
    for thread in burst:
        thread.start()
    for thread in slow + burst:
        thread.join()

    assert len(answers) == 6 and all(a["Account_Name"] for a in answers)
    assert sum(1 for c in zoho_sandbox.app.calls() if c["status"] == 429) >= 4
    firsts = [delays[0] for delays in sleeps.values()]
    assert len(firsts) == 4 and len(set(firsts)) == 4  # jittered: no two callers retry in step
    for delays in sleeps.values():
        for attempt, delay in enumerate(delays, start=1):
            assert 0 <= delay <= min(retry.max_delay, retry.base_delay * 2 ** (attempt - 1))


def test_zoho_out_of_credits_is_a_retriable_rate_limit(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(daily_credits=1)
    sleeps: dict[int, list[float]] = {}
    client = zoho_client(zoho_sandbox, RetryPolicy(attempts=3, base_delay=0.02), sleeps)
    client.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(30))

    with pytest.raises(RateLimitedError) as raised:
        client.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(30))

    assert raised.value.message.startswith("Zoho CRM asked us to slow down")
    assert len(next(iter(sleeps.values()))) == 2  # backed off between its three tries, then to the queue


# --- the whole stack ---------------------------------------------------------------------------


@pytest.fixture
def xero(live: Any) -> Xero:
    return Xero(live.xero_url)


@pytest.fixture
def day_limit() -> Iterator[Callable[[int], None]]:
    import os

    from chalicelib import wiring

    def set_limit(limit: int) -> None:
        os.environ["XERO_DAY_LIMIT"] = str(limit)
        wiring._container.cache_clear()

    yield set_limit
    os.environ.pop("XERO_DAY_LIMIT", None)
    wiring._container.cache_clear()


def test_the_service_spends_from_the_budget_and_queues_at_the_daily_limit(
    click: Callable[..., httpx.Response], xero: Xero, day_limit: Callable[[int], None]
) -> None:
    from chalicelib import wiring

    day_limit(2)  # a lookup by number and one by name; the write would be the third call

    response = click(acct(1))

    assert response.status_code == 202, response.text
    assert "rate limit" in response.json()["message"]
    assert xero.contact_writes() == 0
    assert not any(c["status"] == 429 for c in xero.calls())
    usage = wiring.container().rate_gate.usage(XERO_TENANT_ID)
    assert (usage.day_used, usage.day_limit, usage.in_flight) == (2, 2, 0)


def test_after_a_long_429_every_lambda_waits(click: Callable[..., httpx.Response], xero: Xero) -> None:
    xero.fault(status=429, retry_after=3600, count=1, method="POST", path_prefix=CONTACTS)
    assert click(acct(1)).status_code == 202
    calls_so_far = len(xero.calls())

    second = click(acct(2))

    assert second.status_code == 202, second.text
    assert len(xero.calls()) == calls_so_far  # the second sync never reached Xero
