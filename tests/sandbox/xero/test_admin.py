"""The /__sandbox__/ admin API and the Python API it mirrors."""

from __future__ import annotations

from sandbox.seed_data import XERO_CONTACTS, XERO_TENANT_ID
from sandbox.xero import XeroSandbox, XeroSandboxConfig
from tests.sandbox.xero.conftest import XeroApi, refresh

ADMIN = "/__sandbox__"


def test_default_instance_is_seeded_and_rate_limited():
    app = XeroSandbox()
    assert app.tenant_id == XERO_TENANT_ID
    assert sorted(c["Name"] for c in app.contacts()) == sorted(c["Name"] for c in XERO_CONTACTS)
    assert app.config.rate_limits_enabled and app.config.minute_limit == 60 and app.config.validate_requests
    assert XeroSandbox(XeroSandboxConfig(seed=False)).contacts() == []


def test_state_and_reset(xero_sandbox, xero: XeroApi):
    xero.save({"Name": "Temp"})
    state = xero.http.get(f"{ADMIN}/state").json()
    assert state["tenants"][0]["contacts"] == len(XERO_CONTACTS) + 1 and state["calls"] >= 2
    assert state["tenants"][0]["connected"] is True
    empty = xero.http.post(f"{ADMIN}/reset", json={"seed": False}).json()
    assert empty["tenants"][0]["contacts"] == 0 and empty["calls"] == 0
    xero.http.post(f"{ADMIN}/reset")
    assert len(xero_sandbox.app.contacts()) == len(XERO_CONTACTS)
    assert xero.get("/Contacts").status_code == 401  # reset forgets issued access tokens


def test_call_log_and_counts(xero: XeroApi):
    xero.get("/Contacts", params={"where": 'Name=="x"'})
    xero.get("/Contacts/CUST-0042")
    xero.get("/Contacts/0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f02")
    xero.save({"Name": "Logged"})
    body = xero.http.get(f"{ADMIN}/calls").json()
    assert body["counts"] == {
        "POST /connect/token": 1,
        "GET /api.xro/2.0/Contacts": 1,
        "GET /api.xro/2.0/Contacts/{ContactNumber}": 1,
        "GET /api.xro/2.0/Contacts/{ContactID}": 1,
        "POST /api.xro/2.0/Contacts": 1,
    }
    get, *_, post = body["calls"][1:]
    assert get["query"] == {"where": 'Name=="x"'} and get["tenant"] == XERO_TENANT_ID and get["status"] == 200
    assert post["request_body"] == {"Contacts": [{"Name": "Logged"}]} and post["query"] == {
        "summarizeErrors": "false"
    }
    assert isinstance(post["time"], float)
    assert xero.http.delete(f"{ADMIN}/calls").json() == {"calls": [], "counts": {}}


def test_clock(xero_sandbox, xero: XeroApi):
    before = xero.http.get(f"{ADMIN}/clock").json()["now"]
    after = xero.http.post(f"{ADMIN}/clock", json={"advance": 1800}).json()["now"]
    assert after - before >= 1800
    assert xero.get("/Contacts").status_code == 401  # the access token expired


def test_config_partial_update(xero: XeroApi):
    config = xero.http.post(f"{ADMIN}/config", json={"minute_limit": 1}).json()
    assert config["minute_limit"] == 1 and config["day_limit"] == 5000
    xero.get("/Contacts")
    assert xero.get("/Contacts").status_code == 429
    assert xero.http.post(f"{ADMIN}/config", json={"minute_limt": 5}).status_code == 400


def test_raw_contacts_bypass_validation(xero_sandbox, xero: XeroApi):
    raw = {"Name": "Greenleaf Organics", "ContactStatus": "ACTIVE", "Website": "www.no-scheme.example"}
    (created,) = xero.http.post(f"{ADMIN}/contacts", json=raw).json()["Contacts"]
    assert created["Website"] == "www.no-scheme.example"  # a duplicate name, as the UI could leave it
    listed = xero.http.get(f"{ADMIN}/contacts").json()["Contacts"]
    assert [c["ContactID"] for c in listed].count(created["ContactID"]) == 1
    assert len(listed) == len(XERO_CONTACTS) + 1
    assert xero.http.post(f"{ADMIN}/contacts", json=[{"Name": "A"}, {"Name": "B"}]).status_code == 200
    assert xero.http.post(f"{ADMIN}/contacts", json="nope").status_code == 400


def test_tokens_mint_a_usable_refresh_token(xero: XeroApi):
    minted = xero.http.post(f"{ADMIN}/tokens").json()
    assert minted["client_id"] == "sandbox-xero-client-id" and minted["tenant_id"] == XERO_TENANT_ID
    assert refresh(xero.http, minted["refresh_token"]).status_code == 200


def test_generate_synthetic_contacts(xero_sandbox, xero: XeroApi):
    assert xero.http.post(f"{ADMIN}/generate", json={"n": 50, "seed": 3}).json() == {"generated": 50}
    names = {c["Name"] for c in xero_sandbox.app.contacts()}
    assert len(names) == len(XERO_CONTACTS) + 50
    again = XeroSandbox(XeroSandboxConfig(seed=False))
    assert [c["ContactID"] for c in again.generate_contacts(5, seed=3)] == [
        c["ContactID"] for c in XeroSandbox(XeroSandboxConfig(seed=False)).generate_contacts(5, seed=3)
    ]


def test_unknown_admin_endpoint_lists_the_known_ones(xero: XeroApi):
    response = xero.http.get(f"{ADMIN}/nope")
    assert response.status_code == 404 and "GET /__sandbox__/state" in response.json()["endpoints"]


def test_reset_restores_the_construction_config_unless_asked_to_keep_it(xero_sandbox, xero: XeroApi):
    app = xero_sandbox.app
    app.configure(minute_limit=3)
    app.reset(keep_config=True)
    assert app.config.minute_limit == 3
    xero.http.post(f"{ADMIN}/reset", json={})
    assert app.config.minute_limit == 60


def test_a_second_tenant_is_connected_and_isolated(xero_sandbox, xero: XeroApi):
    second = {"tenant_id": "9a8b7c6d-0000-4000-8000-000000000002", "name": "Second Org", "short_code": "!2nd"}
    tenants = [*xero_sandbox.app.config.to_dict()["tenants"], second]
    xero.http.post(f"{ADMIN}/config", json={"tenants": tenants})
    xero.http.post(f"{ADMIN}/reset", json={"keep_config": True})
    xero.access_token = refresh(xero.http, "sandbox-xero-refresh-token").json()["access_token"]
    connections = xero.http.get(
        "/connections", headers={"Authorization": f"Bearer {xero.access_token}"}
    ).json()
    assert sorted(c["tenantName"] for c in connections) == ["Demo Company (AU)", "Second Org"]
    other = {"xero-tenant-id": second["tenant_id"]}
    assert xero.get("/Contacts", headers=other).json()["Contacts"] == []
    assert xero.post("/Contacts", json={"Name": "Only In Second"}, headers=other).status_code == 200
    assert "Only In Second" not in [c["Name"] for c in xero.get("/Contacts").json()["Contacts"]]
    assert xero.get("/Organisation", headers=other).json()["Organisations"][0]["ShortCode"] == "!2nd"
    # Each tenant has its own rate-limit windows: 4 calls on the second, now 2 on the first.
    assert xero.get("/Contacts", headers=other).headers["X-MinLimit-Remaining"] == "56"
    assert xero.get("/Contacts").headers["X-MinLimit-Remaining"] == "58"


def test_the_call_log_keeps_the_latest_calls_and_the_counts_cover_every_call(monkeypatch):
    """`make run` can run for days: the log is bounded, the counts stay exact."""
    from sandbox.xero import app as xero_app

    monkeypatch.setattr(xero_app, "MAX_CALLS", 3)
    sandbox = XeroSandbox(XeroSandboxConfig())
    from werkzeug.test import Client

    client = Client(sandbox)
    for n in range(5):
        client.get(f"/api.xro/2.0/Contacts/CUST-{n}")
    assert [c["path"].rsplit("-", 1)[1] for c in sandbox.calls()] == ["2", "3", "4"]
    assert sandbox.call_counts() == {"GET /api.xro/2.0/Contacts/{ContactNumber}": 5}
    assert sandbox.state()["calls"] == 5
