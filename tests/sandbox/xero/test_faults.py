"""Fault injection: errors, Retry-After, delays and dropped connections, through the admin API too."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.xero.conftest import INITIAL_REFRESH_TOKEN, XeroApi, refresh


def test_500_then_back_to_normal(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(status=500)
    failed = xero.get("/Contacts")
    assert failed.status_code == 500 and failed.json()["Status"] == 500
    assert xero.get("/Contacts").status_code == 200
    assert xero_sandbox.app.calls()[-2]["fault"]["status"] == 500


def test_503_with_retry_after_for_the_next_n_calls(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(status=503, retry_after=7, count=2)
    for _ in range(2):
        response = xero.get("/Contacts")
        assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert xero.get("/Contacts").status_code == 200


def test_injected_429_looks_like_xeros(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(status=429, retry_after=3)
    response = xero.get("/Contacts")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3" and response.headers["X-Rate-Limit-Problem"] == "minute"


def test_fault_filters_and_custom_body(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(
        status=400, method="POST", path_prefix="/api.xro/2.0/Contacts", body={"Custom": True}
    )
    assert xero.get("/Contacts").status_code == 200  # GET does not match
    response = xero.save({"Name": "Blocked"})
    assert response.status_code == 400 and response.json() == {"Custom": True}
    assert [c for c in xero_sandbox.app.contacts() if c["Name"] == "Blocked"] == []


def test_faults_apply_to_the_token_endpoint(xero_sandbox, http):
    xero_sandbox.app.add_fault(status=503, path_prefix="/connect/token", body="Service Unavailable")
    response = refresh(http, INITIAL_REFRESH_TOKEN)
    assert response.status_code == 503 and response.text == "Service Unavailable"
    assert refresh(http, INITIAL_REFRESH_TOKEN).status_code == 200  # the token was not consumed


def test_delay(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(delay=0.3)
    started = time.monotonic()
    assert xero.get("/Contacts").status_code == 200  # a delay alone still answers normally
    assert time.monotonic() - started >= 0.3


def test_dropped_connection(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.add_fault(drop=True, method="POST")
    with pytest.raises(httpx.TransportError):
        xero.save({"Name": "Never Saved"})
    assert [c for c in xero_sandbox.app.contacts() if c["Name"] == "Never Saved"] == []
    assert xero.save({"Name": "Saved Later"}).status_code == 200


def test_faults_through_the_admin_api(xero_sandbox, xero: XeroApi):
    admin = xero.http
    assert admin.post("/__sandbox__/faults", json={"status": 502, "count": 3}).status_code == 200
    assert admin.get("/__sandbox__/faults").json()["faults"][0]["count"] == 3
    assert xero.get("/Contacts").status_code == 502
    assert admin.get("/__sandbox__/faults").json()["faults"][0]["count"] == 2
    assert admin.delete("/__sandbox__/faults").json() == {"faults": []}
    assert xero.get("/Contacts").status_code == 200
    assert admin.post("/__sandbox__/faults", json={"colour": "red"}).status_code == 400
