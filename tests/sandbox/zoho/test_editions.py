"""Zoho CRM editions: each sets the credits per rolling 24 h and the calls allowed in flight."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from sandbox.common import Fault
from sandbox.zoho.limits import edition_limits

from .conftest import ACME

COQL = {"select_query": "select id from Accounts where id is not null limit 2000"}


@pytest.mark.parametrize(
    ("edition", "users", "addon", "expected"),
    [
        ("free", 50, 0, (5_000, 5)),  # Free is 5,000 whatever the users
        ("standard", 10, 0, (52_500, 10)),  # the docs' own example: 50,000 + 10 x 250
        ("standard", 1_000, 0, (100_000, 10)),  # capped
        ("professional", 10, 1_000, (56_000, 15)),
        ("enterprise", 100, 0, (150_000, 20)),
        ("enterprise", 10_000, 0, (5_000_000, 20)),
        ("ultimate", 10, 0, (None, 25)),  # unlimited
    ],
)
def test_each_edition_has_zohos_credits_and_concurrency(
    edition: str, users: int, addon: int, expected: tuple[int | None, int]
) -> None:
    assert edition_limits(edition, users, addon) == expected


def test_an_unknown_edition_is_refused_and_changes_nothing(zoho_sandbox: Any) -> None:
    with pytest.raises(ValueError, match="unknown Zoho CRM edition"):
        zoho_sandbox.app.configure(edition="gold")
    assert zoho_sandbox.app.config.edition is None


def test_free_edition_runs_out_after_5000_credits(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(edition="free")
    zoho_sandbox.app.credits.spend(zoho_sandbox.app.clock.now(), 4_997)
    coql = api.post("/crm/v8/coql", json=COQL)  # a 2,000-row page costs 3 credits
    assert coql.status_code == 200
    assert coql.headers["X-API-CREDITS-REMAINING"] == "0"
    refused = api.get(f"/crm/v8/Accounts/{ACME}")
    assert refused.status_code == 429
    assert refused.json() == {
        "code": "TOO_MANY_REQUESTS",
        "details": {"reason": "api credits exhausted", "limit": 5_000},
        "message": "You have reached the maximum API credits allowed for the 24-hour period",
        "status": "error",
    }
    assert refused.headers["X-API-CREDITS-REMAINING"] == "0"
    assert zoho_sandbox.app.credits_used() == 5_000  # a refused call costs nothing
    zoho_sandbox.app.clock.advance(86_400)  # the rolling window frees them again
    api.headers["Authorization"] = f"Zoho-oauthtoken {zoho_sandbox.app.access_token()}"
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code == 200


def test_the_edition_overrides_the_plain_credit_setting(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(daily_credits=1, edition="ultimate")
    answers = [api.get(f"/crm/v8/Accounts/{ACME}").status_code for _ in range(3)]
    assert answers == [200, 200, 200]


def _burst(api: httpx.Client, zoho_sandbox: Any, calls: int, send: Any) -> list[int]:
    """`calls` slow calls at once; the statuses they got, sorted."""
    zoho_sandbox.app.faults.add(Fault(count=calls, delay=0.8, path_prefix="/crm/"))
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(send().status_code)) for _ in range(calls)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_free_edition_allows_five_calls_in_flight(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(edition="free")
    statuses = _burst(api, zoho_sandbox, 6, lambda: api.get(f"/crm/v8/Accounts/{ACME}"))
    assert statuses == [200] * 5 + [429]
    assert zoho_sandbox.app.concurrency.peak == 6


def test_coql_has_its_own_cap_of_ten_in_flight(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(edition="ultimate")  # 25 calls in flight, but COQL only 10
    statuses = _burst(api, zoho_sandbox, 11, lambda: api.post("/crm/v8/coql", json=COQL))
    assert statuses == [200] * 10 + [429]
