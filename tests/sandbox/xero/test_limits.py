"""Rate limits: per-tenant minute/day/concurrency and app-wide minute, with Xero's headers."""

from __future__ import annotations

import threading
import time

import httpx

from tests.sandbox.xero.conftest import XeroApi, refresh


def test_every_accounting_response_carries_remaining_headers(xero: XeroApi):
    first = xero.get("/Contacts")
    second = xero.get("/Contacts/CUST-0042")
    assert int(first.headers["X-MinLimit-Remaining"]) == 59
    assert int(second.headers["X-MinLimit-Remaining"]) == 58
    assert int(second.headers["X-DayLimit-Remaining"]) == 4998
    assert int(second.headers["X-AppMinLimit-Remaining"]) < 10000
    # Errors after admission count and carry the headers too.
    assert "X-MinLimit-Remaining" in xero.get("/Contacts/NOPE").headers


def test_minute_limit_then_window_resets(xero_sandbox, xero: XeroApi):
    for _ in range(60):
        assert xero.get("/Contacts/CUST-0042").status_code == 200
    limited = xero.get("/Contacts/CUST-0042")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-MinLimit-Remaining"] == "0"
    xero_sandbox.app.clock.advance(int(limited.headers["Retry-After"]))
    again = xero.get("/Contacts/CUST-0042")
    # The rejected call was not counted: the new window holds exactly this one call.
    assert again.status_code == 200 and again.headers["X-MinLimit-Remaining"] == "59"


def test_rejected_calls_do_not_count(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.configure(minute_limit=2, day_limit=100)
    xero.get("/Contacts")
    xero.get("/Contacts")
    for _ in range(5):
        assert xero.get("/Contacts").status_code == 429
    assert xero_sandbox.app.state()["rate_limits"]["tenants"][xero.tenant_id]["day_used"] == 2


def test_day_limit(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.configure(day_limit=3)
    for _ in range(3):
        assert xero.get("/Contacts").status_code == 200
    limited = xero.get("/Contacts")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert 86000 < int(limited.headers["Retry-After"]) <= 86400
    xero_sandbox.app.clock.advance(61)  # a new minute does not help
    assert xero.get("/Contacts").headers["X-Rate-Limit-Problem"] == "day"
    xero_sandbox.app.clock.advance(86400)
    xero.access_token = refresh(xero.http, xero.refresh_token).json()["access_token"]  # a day later
    assert xero.get("/Contacts").status_code == 200


def test_app_minute_limit_spans_tenantless_calls(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.configure(app_minute_limit=2)
    assert (
        xero.http.get("/connections", headers={"Authorization": f"Bearer {xero.access_token}"}).status_code
        == 200
    )
    assert xero.get("/Contacts").status_code == 200
    limited = xero.get("/Contacts")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "appminute"
    assert int(limited.headers["Retry-After"]) >= 1


def test_concurrency_limit_counts_requests_really_in_flight(xero_sandbox, xero: XeroApi):
    app = xero_sandbox.app
    app.add_fault(count=5, delay=0.6, path_prefix="/api.xro/2.0/Contacts")
    results: list[int] = []

    def slow_call() -> None:
        with httpx.Client(base_url=xero_sandbox.url, timeout=10) as client:
            results.append(client.get("/api.xro/2.0/Contacts", headers=xero.headers()).status_code)

    threads = [threading.Thread(target=slow_call) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while app.state()["rate_limits"]["tenants"].get(xero.tenant_id, {}).get("in_flight", 0) < 5:
        assert time.monotonic() < deadline, "the delayed calls never got in flight"
        time.sleep(0.01)
    sixth = xero.get("/Contacts")
    assert sixth.status_code == 429 and sixth.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" in sixth.headers
    for thread in threads:
        thread.join()
    assert results == [200] * 5
    assert xero.get("/Contacts").status_code == 200  # slots released


def test_limits_can_be_switched_off(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.configure(rate_limits_enabled=False, minute_limit=1)
    assert [xero.get("/Contacts").status_code for _ in range(3)] == [200, 200, 200]
