"""The admin interface: state, reset, records as a CRM user, clock and config."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import ACME, BLUE_MOUNTAIN


def test_state_and_reset(zoho_sandbox: Any, admin: httpx.Client, api: httpx.Client) -> None:
    state = admin.get("/state").json()
    assert state["records"] == {"Accounts": 14, "Contacts": 21}
    assert state["config"]["client_id"] == "sandbox-zoho-client-id"
    assert admin.get("/").json()["endpoints"]
    emptied = admin.post("/reset", json={"seed": False}).json()
    assert emptied["records"] == {"Accounts": 0, "Contacts": 0}
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code == 401  # tokens are gone too
    assert admin.post("/reset").json()["records"]["Accounts"] == 14


def test_records_crud_as_a_crm_user(zoho_sandbox: Any, admin: httpx.Client) -> None:
    created = admin.post("/records/Accounts", json={"Account_Name": "Nimbus Pty Ltd", "Add_to_Xero": True})
    assert created.status_code == 201
    account = created.json()
    assert account["Account_Name"] == "Nimbus Pty Ltd" and account["Owner"]["name"] == "Priya Sharma"
    contact = admin.post(
        "/records/Contacts",
        json={"Last_Name": "Ng", "Email": "ng@nimbus.example", "Account_Id": account["id"]},
    ).json()
    assert contact["Account_Name"] == {"name": "Nimbus Pty Ltd", "id": account["id"]}
    assert admin.get(f"/records/Contacts/{contact['id']}").json()["Email"] == "ng@nimbus.example"
    patched = admin.patch(f"/records/Accounts/{account['id']}", json={"Account_Name": "Nimbus Group"}).json()
    assert patched["Account_Name"] == "Nimbus Group"
    assert zoho_sandbox.app.get("Contacts", contact["id"])["Account_Name"]["name"] == "Nimbus Group"
    assert len(admin.get("/records/Accounts").json()["data"]) == 15
    assert admin.delete(f"/records/Accounts/{account['id']}").status_code == 200
    assert admin.get(f"/records/Accounts/{account['id']}").status_code == 404
    assert zoho_sandbox.app.get("Contacts", contact["id"])["Account_Name"] is None


def test_user_writes_check_names_and_formats_but_not_api_rules(admin: httpx.Client) -> None:
    assert admin.patch(f"/records/Accounts/{ACME}", json={"Nope": 1}).status_code == 400
    assert admin.patch(f"/records/Accounts/{ACME}", json={"Xero_Last_Synced": "yesterday"}).status_code == 400
    assert admin.post("/records/Contacts", json={"Last_Name": "X", "Account_Id": "1"}).status_code == 400
    assert admin.patch("/records/Accounts/5725767000000999999", json={"Fax": "1"}).status_code == 404
    assert admin.get("/records/Leads").status_code == 404
    # A user (or an import) can store what the API would refuse, e.g. a 300-character name.
    assert admin.patch(f"/records/Accounts/{ACME}", json={"Account_Name": "n" * 300}).status_code == 200


def test_history_can_be_arranged(zoho_sandbox: Any, admin: httpx.Client) -> None:
    edited = admin.patch(
        f"/records/Accounts/{BLUE_MOUNTAIN}?automation=false",
        json={"Modified_Time": "2026-01-01T00:00:00+00:00", "Xero_Last_Synced": "2026-01-02T00:00:00+11:00"},
    ).json()
    assert edited["Modified_Time"] == "2026-01-01T00:00:00+00:00"
    assert edited["Xero_Last_Synced"] == "2026-01-01T13:00:00+00:00"


def test_clock_and_config(zoho_sandbox: Any, admin: httpx.Client) -> None:
    before = admin.get("/clock").json()["epoch"]
    after = admin.post("/clock", json={"advance": 3600}).json()["epoch"]
    assert 3600 <= after - before < 3660
    assert admin.post("/config", json={"webhook_url": "http://x.example/hook"}).json()["webhook_url"] == (
        "http://x.example/hook"
    )
    assert zoho_sandbox.app.config.webhook_url == "http://x.example/hook"
    assert admin.post("/config", json={"webhook_ulr": "typo"}).status_code == 400


def test_the_org_time_zone_shows_in_datetimes(
    zoho_sandbox: Any, admin: httpx.Client, api: httpx.Client
) -> None:
    admin.post("/config", json={"utc_offset_minutes": 600})
    [account] = api.get(f"/crm/v8/Accounts/{ACME}").json()["data"]
    assert account["Modified_Time"].endswith("+10:00")


def test_tokens_for_demos(zoho_sandbox: Any, admin: httpx.Client) -> None:
    token = admin.post("/tokens").json()["access_token"]
    answer = httpx.get(
        f"{zoho_sandbox.url}/crm/v8/Accounts/{ACME}", headers={"Authorization": f"Zoho-oauthtoken {token}"}
    )
    assert answer.status_code == 200
