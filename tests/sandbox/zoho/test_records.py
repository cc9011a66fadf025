"""Reading records: one record, an Account's Contacts, module lists and their pagination."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import ACME, BLUE_MOUNTAIN, BRUNO, ISLAND, assert_contract


def test_get_account_returns_zohos_wire_format(api: httpx.Client) -> None:
    answer = api.get(f"/crm/v8/Accounts/{ACME}")
    assert answer.status_code == 200
    assert_contract(answer)
    [account] = answer.json()["data"]
    assert account["id"] == ACME
    assert account["Account_Name"] == "Acme Widgets Pty Ltd"
    assert account["Add_to_Xero"] is True
    assert account["Xero_Sync_Status"] is None
    assert set(account["Owner"]) == {"name", "id", "email"}
    assert account["Modified_Time"].endswith("+00:00") and "." not in account["Modified_Time"]
    assert "expect" not in account


def test_contact_account_lookup_is_name_and_id(api: httpx.Client) -> None:
    [contact] = api.get(f"/crm/v8/Contacts/{BRUNO}").json()["data"]
    assert contact["Account_Name"] == {"name": "Blue Mountain Bakery", "id": BLUE_MOUNTAIN}
    assert contact["Full_Name"] == "Bruno Rossi"
    assert contact["Primary_Contact"] is True
    assert "Account_Id" not in contact


def test_fields_limits_a_single_record_and_unknown_fields_are_refused(api: httpx.Client) -> None:
    [account] = api.get(f"/crm/v8/Accounts/{ACME}", params={"fields": "Account_Name,Phone"}).json()["data"]
    assert account == {"id": ACME, "Account_Name": "Acme Widgets Pty Ltd", "Phone": "+61 2 9000 1000"}
    answer = api.get(f"/crm/v8/Accounts/{ACME}", params={"fields": "Account_Name,Nope"})
    assert answer.status_code == 400 and answer.json()["code"] == "INVALID_DATA"


def test_an_unknown_record_id_is_invalid_data(api: httpx.Client) -> None:
    answer = api.get("/crm/v8/Accounts/5725767000000999999")
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "INVALID_DATA",
        "details": {"resource_path_index": 1},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    assert_contract(answer)


def test_an_unknown_record_id_can_answer_204_instead(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(unknown_record_answer="no_content")
    answer = api.get("/crm/v8/Accounts/5725767000000999999")
    assert answer.status_code == 204 and answer.content == b""


def test_an_unknown_module_is_invalid_module(api: httpx.Client) -> None:
    answer = api.get("/crm/v8/Leads/1")
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_MODULE")


def test_related_contacts_need_fields(api: httpx.Client) -> None:
    answer = api.get(f"/crm/v8/Accounts/{BLUE_MOUNTAIN}/Contacts")
    assert answer.status_code == 400
    assert answer.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert answer.json()["details"] == {"param_name": "fields"}
    assert_contract(answer)


def test_related_contacts_of_an_account(api: httpx.Client) -> None:
    answer = api.get(
        f"/crm/v8/Accounts/{BLUE_MOUNTAIN}/Contacts", params={"fields": "First_Name,Email,Primary_Contact"}
    )
    assert answer.status_code == 200
    assert_contract(answer)
    body = answer.json()
    assert [c["First_Name"] for c in body["data"]] == ["Bruno", "Chloe", "Dev"]
    assert set(body["data"][0]) == {"id", "First_Name", "Email", "Primary_Contact"}
    assert body["info"] == {"per_page": 200, "count": 3, "page": 1, "more_records": False}


def test_an_account_without_contacts_is_204_with_no_body_and_no_content_type(api: httpx.Client) -> None:
    answer = api.get(f"/crm/v8/Accounts/{ISLAND}/Contacts", params={"fields": "Email"})
    assert answer.status_code == 204
    assert answer.content == b""
    assert "content-type" not in answer.headers
    assert_contract(answer)


def test_related_contacts_of_an_unknown_account(api: httpx.Client) -> None:
    answer = api.get("/crm/v8/Accounts/5725767000000999999/Contacts", params={"fields": "Email"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "the related id given seems to be invalid"
    assert_contract(answer)


def test_per_page_above_200_is_refused_and_pages_split_the_list(api: httpx.Client) -> None:
    params = {"fields": "Email", "per_page": "201"}
    assert api.get("/crm/v8/Accounts/5725767000000400014/Contacts", params=params).status_code == 400
    first = api.get(
        "/crm/v8/Accounts/5725767000000400014/Contacts", params={"fields": "Email", "per_page": "4"}
    )
    second = api.get(
        "/crm/v8/Accounts/5725767000000400014/Contacts",
        params={"fields": "Email", "per_page": "4", "page": "2"},
    )
    assert first.json()["info"]["more_records"] is True
    assert second.json()["info"] == {
        **second.json()["info"],
        "count": 3,
        "page": 2,
        "more_records": False,
    }
    ids = [c["id"] for c in first.json()["data"] + second.json()["data"]]
    assert len(ids) == len(set(ids)) == 7


def test_listing_a_module_needs_fields(api: httpx.Client) -> None:
    answer = api.get("/crm/v8/Accounts")
    assert (answer.status_code, answer.json()["code"]) == (400, "REQUIRED_PARAM_MISSING")
    too_many = ",".join(["Account_Name"] * 51)
    assert api.get("/crm/v8/Accounts", params={"fields": too_many}).json()["code"] == "LIMIT_EXCEEDED"


def test_list_sorting(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.clock.advance(60)
    zoho_sandbox.app.edit("Accounts", BLUE_MOUNTAIN, {"Phone": "+61 2 4782 9999"}, automation=False)
    answer = api.get(
        "/crm/v8/Accounts",
        params={"fields": "Account_Name", "sort_by": "Modified_Time", "sort_order": "desc"},
    )
    assert_contract(answer)
    body = answer.json()
    assert body["data"][0]["id"] == BLUE_MOUNTAIN
    assert (body["info"]["sort_by"], body["info"]["sort_order"]) == ("Modified_Time", "desc")
    by_id = api.get(
        "/crm/v8/Accounts", params={"fields": "Account_Name", "sort_by": "id", "sort_order": "asc"}
    )
    ids = [a["id"] for a in by_id.json()["data"]]
    assert ids == sorted(ids)
    assert (
        api.get("/crm/v8/Accounts", params={"fields": "Account_Name", "sort_by": "Phone"}).status_code == 400
    )


def test_if_modified_since_lists_only_later_changes(api: httpx.Client, zoho_sandbox: Any) -> None:
    since = zoho_sandbox.app.state()["now"]
    unchanged = api.get(
        "/crm/v8/Accounts", params={"fields": "Account_Name"}, headers={"If-Modified-Since": since}
    )
    assert unchanged.status_code == 304 and unchanged.content == b""
    zoho_sandbox.app.clock.advance(5)
    zoho_sandbox.app.edit("Accounts", ACME, {"Fax": None}, automation=False)
    changed = api.get(
        "/crm/v8/Accounts", params={"fields": "Account_Name"}, headers={"If-Modified-Since": since}
    )
    assert [a["id"] for a in changed.json()["data"]] == [ACME]


def test_an_empty_module_lists_as_204(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.reset(seed=False)
    token = zoho_sandbox.app.access_token()
    answer = api.get(
        "/crm/v8/Accounts",
        params={"fields": "Account_Name"},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )
    assert answer.status_code == 204 and "content-type" not in answer.headers


def test_page_tokens_reach_past_2000_records(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.reset(seed=False)
    zoho_sandbox.app.generate(2100, seed=7)
    token = zoho_sandbox.app.access_token()
    api.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    params = {"fields": "Account_Name", "sort_by": "id", "sort_order": "asc"}
    page10 = api.get("/crm/v8/Accounts", params={**params, "page": "10"})
    assert page10.status_code == 200 and page10.json()["info"]["more_records"] is True
    page11 = api.get("/crm/v8/Accounts", params={**params, "page": "11"})
    assert (page11.status_code, page11.json()["code"]) == (400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED")

    info = page10.json()["info"]
    assert {"next_page_token", "previous_page_token", "page_token_expiry"} <= set(info)
    beyond = api.get("/crm/v8/Accounts", params={**params, "page_token": info["next_page_token"]})
    assert_contract(beyond)
    rest = beyond.json()
    assert len(rest["data"]) == 100 and rest["info"]["more_records"] is False
    assert rest["data"][0]["id"] > page10.json()["data"][-1]["id"]
    # A token belongs to the request it came from and expires after 24 hours.
    other = {**params, "fields": "Phone", "page_token": info["next_page_token"]}
    assert api.get("/crm/v8/Accounts", params=other).status_code == 400
    zoho_sandbox.app.clock.advance(86401)
    api.headers["Authorization"] = f"Zoho-oauthtoken {zoho_sandbox.app.access_token()}"
    expired = api.get("/crm/v8/Accounts", params={**params, "page_token": info["next_page_token"]})
    assert expired.status_code == 400


def test_settings_fields_and_related_lists_describe_the_org(api: httpx.Client) -> None:
    fields = {
        f["api_name"]: f
        for f in api.get("/crm/v8/settings/fields", params={"module": "Accounts"}).json()["fields"]
    }
    assert fields["Add_to_Xero"]["data_type"] == "boolean" and fields["Add_to_Xero"]["custom_field"] is True
    assert fields["Xero_Sync_Error"]["length"] == 2000
    assert [v["actual_value"] for v in fields["Xero_Sync_Status"]["pick_list_values"]] == [
        "-None-",
        "Synced",
        "Failed",
        "Rejected",
        "Archived in Xero",
        "Conflict",  # Both Way's held conflicts (docs/zoho-setup.md)
    ]
    contacts = api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
    lookup = next(f for f in contacts if f["api_name"] == "Account_Name")
    assert lookup["data_type"] == "lookup" and lookup["lookup"]["module"]["api_name"] == "Accounts"
    related = api.get("/crm/v8/settings/related_lists", params={"module": "Accounts"}).json()["related_lists"]
    assert [r["api_name"] for r in related] == ["Contacts"]
    assert api.get("/crm/v8/settings/fields").json()["code"] == "REQUIRED_PARAM_MISSING"
    modules = api.get("/crm/v8/settings/modules").json()["modules"]
    assert [m["api_name"] for m in modules] == ["Accounts", "Contacts"]


def test_if_modified_since_on_related_contacts(api: httpx.Client, zoho_sandbox: Any) -> None:
    since = zoho_sandbox.app.state()["now"]
    url = f"/crm/v8/Accounts/{BLUE_MOUNTAIN}/Contacts"
    unchanged = api.get(url, params={"fields": "Email"}, headers={"If-Modified-Since": since})
    assert unchanged.status_code == 304 and "content-type" not in unchanged.headers
    zoho_sandbox.app.clock.advance(5)
    zoho_sandbox.app.edit("Contacts", BRUNO, {"Title": "Owner"}, automation=False)
    changed = api.get(url, params={"fields": "Email"}, headers={"If-Modified-Since": since})
    assert [c["id"] for c in changed.json()["data"]] == [BRUNO]
    assert (
        api.get(url, params={"fields": "Email"}, headers={"If-Modified-Since": "yesterday"}).status_code
        == 400
    )
