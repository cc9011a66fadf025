"""Concurrency and credit limits, injected faults and the call log."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.common import Fault

from .conftest import ACME


def test_too_many_calls_in_flight_get_429(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(concurrency_limit=2)
    zoho_sandbox.app.faults.add(Fault(count=2, delay=0.6, path_prefix="/crm/"))
    slow: list[int] = []

    def call() -> None:
        slow.append(api.get(f"/crm/v8/Accounts/{ACME}").status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while zoho_sandbox.app.concurrency.in_flight < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    third = api.get(f"/crm/v8/Accounts/{ACME}")
    for thread in threads:
        thread.join()
    assert sorted(slow) == [200, 200]
    assert third.status_code == 429
    assert third.json()["code"] == "TOO_MANY_REQUESTS"
    assert third.json()["status"] == "error"
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code == 200  # the burst is over


def test_credits_run_out_and_come_back_after_24_hours(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(daily_credits=4)
    answers = [api.get(f"/crm/v8/Accounts/{ACME}") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert "X-API-CREDITS-REMAINING" not in answers[0].headers  # shown from 50 % usage on
    assert [a.headers["X-API-CREDITS-REMAINING"] for a in answers[1:4]] == ["2", "1", "0"]
    assert answers[-1].json()["code"] == "TOO_MANY_REQUESTS"
    zoho_sandbox.app.clock.advance(86400)
    api.headers["Authorization"] = f"Zoho-oauthtoken {zoho_sandbox.app.access_token()}"
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code == 200


def test_updates_cost_one_credit_per_ten_records(api: httpx.Client, zoho_sandbox: Any) -> None:
    records = [{"id": ACME, "Xero_ID": str(i)} for i in range(25)]
    assert api.put("/crm/v8/Accounts", json={"data": records, "trigger": []}).status_code == 200
    assert zoho_sandbox.app.credits_used() == 3
    assert zoho_sandbox.app.calls()[-1]["credits"] == 3


@pytest.mark.parametrize(
    ("status", "code"), [(500, "INTERNAL_ERROR"), (503, "INTERNAL_ERROR"), (429, "TOO_MANY_REQUESTS")]
)
def test_status_faults_hit_the_next_matching_calls(
    api: httpx.Client, zoho_sandbox: Any, status: int, code: str
) -> None:
    zoho_sandbox.app.faults.add(Fault(count=2, status=status, retry_after=7, path_prefix="/crm/v8/Accounts"))
    first, second, third = (api.get(f"/crm/v8/Accounts/{ACME}") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (status, status, 200)
    assert first.json()["code"] == code
    assert first.headers["Retry-After"] == "7"
    assert zoho_sandbox.app.calls()[0]["fault"]["status"] == status


def test_faults_can_match_a_method_and_carry_a_body(api: httpx.Client, zoho_sandbox: Any) -> None:
    body = {"code": "INTERNAL_ERROR", "details": {}, "message": "custom", "status": "error"}
    zoho_sandbox.app.faults.add(Fault(status=500, method="PUT", body=body))
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code == 200
    answer = api.put("/crm/v8/Accounts", json={"data": [{"id": ACME, "Fax": "1"}], "trigger": []})
    assert (answer.status_code, answer.json()) == (500, body)
    assert zoho_sandbox.app.get("Accounts", ACME)["Fax"] == "+61 2 9000 1001"  # never reached the store


def test_a_delay_fault_slows_the_answer(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.faults.add(Fault(delay=0.3))
    answer = api.get(f"/crm/v8/Accounts/{ACME}")
    assert answer.status_code == 200 and answer.elapsed.total_seconds() >= 0.3


def test_a_drop_fault_closes_the_connection(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.faults.add(Fault(drop=True))
    parts = urlsplit(zoho_sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    connection.request("GET", f"/crm/v8/Accounts/{ACME}")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    assert zoho_sandbox.app.calls()[-1]["status"] is None


def test_faults_over_the_admin_api(zoho_sandbox: Any, admin: httpx.Client, api: httpx.Client) -> None:
    assert (
        admin.post("/faults", json={"status": 503, "count": 1, "path_prefix": "/crm/v8/coql"}).status_code
        == 200
    )
    assert admin.get("/faults").json()["faults"][0]["status"] == 503
    coql = api.post("/crm/v8/coql", json={"select_query": "select id from Accounts where id is not null"})
    assert coql.status_code == 503
    assert admin.get("/faults").json()["faults"] == []
    assert admin.post("/faults", json={"stauts": 500}).status_code == 400
    admin.post("/faults", json=[{"status": 500}, {"status": 502}])
    assert len(admin.delete("/faults").json()["faults"]) == 0


def test_the_call_log_counts_by_route(api: httpx.Client, zoho_sandbox: Any, admin: httpx.Client) -> None:
    api.get(f"/crm/v8/Accounts/{ACME}")
    api.get("/crm/v8/Accounts/5725767000000400002")
    api.get(f"/crm/v8/Accounts/{ACME}/Contacts", params={"fields": "Email"})
    api.put("/crm/v8/Accounts", json={"data": [{"id": ACME, "Fax": None}], "trigger": []})
    logged = admin.get("/calls").json()
    assert logged["counts"] == {
        "GET /crm/v8/Accounts/{id}": 2,
        "GET /crm/v8/Accounts/{id}/Contacts": 1,
        "PUT /crm/v8/Accounts": 1,
    }
    put = logged["calls"][-1]
    assert put["request_body"] == {"data": [{"id": ACME, "Fax": None}], "trigger": []}
    assert put["status"] == 200 and put["template"] == "/crm/v8/Accounts"
    assert admin.delete("/calls").json() == {"calls": [], "counts": {}}
    assert zoho_sandbox.app.calls() == []


def test_unknown_paths_and_methods(api: httpx.Client) -> None:
    assert api.get("/crm/v8/Accounts/1/Contacts/2/x").json()["code"] == "INVALID_URL_PATTERN"
    assert api.patch(f"/crm/v8/Accounts/{ACME}").json()["code"] == "INVALID_REQUEST_METHOD"
