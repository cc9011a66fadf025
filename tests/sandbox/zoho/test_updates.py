"""Record updates: batch size, per-record errors, field checks, Modified_Time, contract checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import ACME, BLUE_MOUNTAIN, BRUNO, assert_contract


def _put(api: httpx.Client, *records: dict[str, Any], trigger: list[str] | None = None) -> httpx.Response:
    return api.put("/crm/v8/Accounts", json={"data": list(records), "trigger": trigger or []})


def test_an_update_succeeds_with_zohos_success_shape(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = _put(api, {"id": ACME, "Xero_ID": "0f6a8c57", "Xero_Sync_Status": "Synced"})
    assert answer.status_code == 200
    assert_contract(answer)
    [result] = answer.json()["data"]
    assert (result["code"], result["message"], result["status"]) == ("SUCCESS", "record updated", "success")
    assert set(result["details"]) == {"Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"}
    assert result["details"]["Modified_By"] == {"name": "Xero Integration", "id": "5725767000000200002"}
    stored = zoho_sandbox.app.get("Accounts", ACME)
    assert (stored["Xero_ID"], stored["Xero_Sync_Status"]) == ("0f6a8c57", "Synced")


def test_an_update_moves_modified_time_and_modified_by(api: httpx.Client, zoho_sandbox: Any) -> None:
    before = zoho_sandbox.app.get("Accounts", ACME)
    zoho_sandbox.app.clock.advance(120)
    result = _put(api, {"id": ACME, "Xero_Sync_Error": "x"}).json()["data"][0]
    after = zoho_sandbox.app.get("Accounts", ACME)
    assert after["Modified_Time"] > before["Modified_Time"]
    assert after["Modified_Time"] == result["details"]["Modified_Time"] == zoho_sandbox.app.state()["now"]
    assert after["Modified_By"]["name"] == "Xero Integration"
    assert after["Created_Time"] == before["Created_Time"]


def test_put_by_id_and_contacts_work_too(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = api.put(f"/crm/v8/Accounts/{ACME}", json={"data": [{"Phone": "+61 2 0000 0000"}], "trigger": []})
    assert answer.status_code == 200
    assert_contract(answer)
    contact = api.put("/crm/v8/Contacts", json={"data": [{"id": BRUNO, "Title": "Owner"}], "trigger": []})
    assert contact.status_code == 200
    assert zoho_sandbox.app.get("Contacts", BRUNO)["Title"] == "Owner"


def test_more_than_100_records_is_refused(api: httpx.Client) -> None:
    answer = _put(api, *({"id": ACME, "Xero_ID": str(i)} for i in range(101)))
    assert answer.status_code == 400
    assert answer.json()["code"] == "LIMIT_EXCEEDED"
    assert answer.json()["details"]["limit"] == 100
    assert_contract(answer)
    assert _put(api, *({"id": ACME, "Xero_ID": str(i)} for i in range(100))).status_code == 200


def test_a_partly_failing_batch_is_207_with_per_record_errors(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = _put(
        api,
        {"id": ACME, "Xero_Sync_Status": "Synced"},
        {"id": "5725767000000999999", "Xero_Sync_Status": "Synced"},
        {"Xero_Sync_Status": "Synced"},
        {"id": BLUE_MOUNTAIN, "Add_to_Xero": "yes"},
    )
    assert answer.status_code == 207
    assert_contract(answer)
    ok, unknown, no_id, bad_type = answer.json()["data"]
    assert ok["status"] == "success"
    assert unknown == {
        "code": "INVALID_DATA",
        "details": {"api_name": "id", "json_path": "$.data[1].id"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    assert (no_id["code"], no_id["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "id")
    assert bad_type["details"] == {
        "api_name": "Add_to_Xero",
        "json_path": "$.data[3].Add_to_Xero",
        "expected_data_type": "boolean",
    }
    assert [e["code"] for e in zoho_sandbox.app.calls()[-1]["record_errors"]] == [
        "INVALID_DATA",
        "MANDATORY_NOT_FOUND",
        "INVALID_DATA",
    ]
    # A refused record is not half-written.
    assert zoho_sandbox.app.get("Accounts", BLUE_MOUNTAIN)["Add_to_Xero"] is True


def test_when_every_record_fails_the_answer_is_400(api: httpx.Client) -> None:
    answer = _put(api, {"id": "5725767000000999999", "Phone": "1"})
    assert answer.status_code == 400 and answer.json()["data"][0]["status"] == "error"
    assert_contract(answer)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-25T18:00:00.123+00:00",  # fractional seconds
        "2026-11-25T18:00:00",  # no offset
        "2026-11-25T18:00:00Z",  # Zulu instead of an offset
        "2026-11-25 18:00:00+00:00",  # no T
        "2026-11-25",  # a date
        1764093600,  # a number
    ],
)
def test_datetimes_must_be_iso_with_an_offset_and_whole_seconds(api: httpx.Client, value: Any) -> None:
    [result] = _put(api, {"id": ACME, "Xero_Last_Synced": value}).json()["data"]
    assert result["code"] == "INVALID_DATA"
    assert result["details"]["expected_data_type"] == "datetime"


def test_datetimes_in_other_offsets_are_stored_as_the_same_instant(
    api: httpx.Client, zoho_sandbox: Any
) -> None:
    assert _put(api, {"id": ACME, "Xero_Last_Synced": "2026-11-26T04:30:00+10:30"}).status_code == 200
    assert zoho_sandbox.app.get("Accounts", ACME)["Xero_Last_Synced"] == "2026-11-25T18:00:00+00:00"


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("Account_Name", "x" * 256, {"maximum_length": "255"}),
        ("Xero_Sync_Error", "e" * 2001, {"maximum_length": "2000"}),
        ("Xero_Contact_URL", "not a url", {"expected_data_type": "website"}),
        ("Xero_Sync_Status", "Done", {}),
        ("Invoices_Due_Date_Day", "20", {"expected_data_type": "integer"}),
        ("Sales_Discount", "5%", {"expected_data_type": "percent"}),
        ("Account_Number", 42, {"expected_data_type": "text"}),
    ],
)
def test_field_checks(api: httpx.Client, field: str, value: Any, detail: dict[str, Any]) -> None:
    [result] = _put(api, {"id": ACME, field: value}).json()["data"]
    assert (result["code"], result["message"]) == ("INVALID_DATA", "invalid data")
    assert result["details"] == {"api_name": field, "json_path": f"$.data[0].{field}", **detail}


def test_valid_values_of_every_custom_type_are_accepted(api: httpx.Client, zoho_sandbox: Any) -> None:
    values = {
        "Xero_Sync_Error": "e" * 2000,
        "Xero_Contact_URL": "https://go.xero.com/Contacts/View/0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01",
        "Invoices_Due_Date_Day": 14,
        "Sales_Discount": 2.5,
        "Account_Name": "y" * 255,
    }
    assert _put(api, {"id": ACME, **values}).status_code == 200
    # Links into the local Xero stand-in (an IP and a port) are URLs too.
    local = (
        "http://127.0.0.1:9001/organisationlogin/default.aspx?shortcode=!dEm0C&redirecturl=/Contacts/View/1"
    )
    assert _put(api, {"id": ACME, "Xero_Contact_URL": local}).status_code == 200
    # An empty picklist value clears the field.
    assert _put(api, {"id": ACME, "Xero_Sync_Status": "Failed"}).status_code == 200
    assert _put(api, {"id": ACME, "Xero_Sync_Status": ""}).status_code == 200
    assert zoho_sandbox.app.get("Accounts", ACME)["Xero_Sync_Status"] is None


def test_clearing_a_mandatory_field_is_refused(api: httpx.Client) -> None:
    [result] = _put(api, {"id": ACME, "Account_Name": ""}).json()["data"]
    assert result["code"] == "MANDATORY_NOT_FOUND"


def test_unknown_and_read_only_fields_are_ignored_and_noted(api: httpx.Client, zoho_sandbox: Any) -> None:
    before = zoho_sandbox.app.get("Accounts", ACME)
    answer = _put(api, {"id": ACME, "Xero_Contact_Id": "typo", "Created_Time": "2020-01-01T00:00:00+00:00"})
    assert answer.status_code == 200
    assert zoho_sandbox.app.get("Accounts", ACME)["Created_Time"] == before["Created_Time"]
    notes = zoho_sandbox.app.calls()[-1]["notes"]
    assert any("Xero_Contact_Id ignored (unknown field)" in n for n in notes)


def test_lookup_updates_check_the_target(api: httpx.Client, zoho_sandbox: Any) -> None:
    moved = api.put(
        "/crm/v8/Contacts", json={"data": [{"id": BRUNO, "Account_Name": {"id": ACME}}], "trigger": []}
    )
    assert moved.status_code == 200
    assert zoho_sandbox.app.get("Contacts", BRUNO)["Account_Name"] == {
        "name": "Acme Widgets Pty Ltd",
        "id": ACME,
    }
    related = api.get(f"/crm/v8/Accounts/{ACME}/Contacts", params={"fields": "Email"}).json()["data"]
    assert BRUNO in [c["id"] for c in related]
    bad = api.put(
        "/crm/v8/Contacts", json={"data": [{"id": BRUNO, "Account_Name": {"id": "5725767000000999999"}}]}
    )
    assert bad.json()["data"][0]["message"] == "the id given seems to be invalid"


def test_contract_violations_are_refused_and_logged(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = _put(api, {"id": ACME, "Xero_ID": "1"}, trigger=["wrkflow"])
    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_DATA"
    assert answer.json()["details"]["json_path"] == "$.trigger[0]"
    assert_contract(answer)
    log = zoho_sandbox.app.calls()[-1]
    assert log["contract_violations"] == [
        "$.trigger[0]: 'wrkflow' is not one of ['workflow', 'approval', 'blueprint', 'pathfinder', 'orchestration']"
    ]
    not_a_list = api.put("/crm/v8/Accounts", json={"data": {"id": ACME}})
    assert not_a_list.json()["details"]["json_path"] == "$.data"


def test_validation_can_be_switched_off(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(validate_requests=False)
    answer = _put(api, {"id": ACME, "Xero_ID": "1"}, trigger=["wrkflow"])
    assert answer.status_code == 200
    assert "contract_violations" not in zoho_sandbox.app.calls()[-1]


def test_numeric_ids_are_accepted_like_zoho_does(api: httpx.Client) -> None:
    answer = _put(api, {"id": int(ACME), "Xero_ID": "n"})
    assert answer.status_code == 200
    assert answer.json()["data"][0]["details"]["id"] == ACME


def test_a_body_that_is_not_json_is_refused(api: httpx.Client) -> None:
    answer = api.put("/crm/v8/Accounts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_DATA")
