"""Record inserts (POST /crm/v8/{module}): per-record answers, mandatory and unique fields, trigger."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.specs import zoho_spec

from .conftest import ACME


def assert_contract(response: httpx.Response) -> None:
    """The body fits the spec's answer for an insert. Zoho answers 201 when every record was
    created and 207 when some were (its docs); the OpenAPI file lists only 200, same body."""
    path = response.request.url.path
    assert zoho_spec.response_errors("POST", path, 200, response.content) == []


def _post(
    api: httpx.Client, module: str, *records: dict[str, Any], trigger: list[str] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"data": list(records)}
    if trigger is not None:
        body["trigger"] = trigger
    return api.post(f"/crm/v8/{module}", json=body)


def test_an_account_and_its_contact_are_created(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = _post(api, "Accounts", {"Account_Name": "Tui Plumbing", "Add_to_Xero": True}, trigger=[])
    assert answer.status_code == 201
    assert_contract(answer)
    [result] = answer.json()["data"]
    assert (result["code"], result["message"], result["status"]) == ("SUCCESS", "record added", "success")
    account_id = result["details"]["id"]
    person = {"Last_Name": "Ngata", "Email": "hemi@tui.example", "Account_Name": {"id": account_id}}
    contact = _post(api, "Contacts", person, trigger=[]).json()["data"][0]
    assert contact["code"] == "SUCCESS"
    stored = zoho_sandbox.app.get("Accounts", account_id)
    assert (stored["Account_Name"], stored["Add_to_Xero"]) == ("Tui Plumbing", True)
    assert stored["Created_By"]["name"] == "Xero Integration"
    assert zoho_sandbox.app.get("Contacts", contact["details"]["id"])["Account_Name"]["id"] == account_id


def test_each_record_is_answered_on_its_own(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = _post(api, "Accounts", {"Account_Name": "Fine"}, {"Phone": "123"}, trigger=[])
    assert answer.status_code == 207
    assert_contract(answer)
    ok, missing = answer.json()["data"]
    assert ok["code"] == "SUCCESS"
    assert missing["code"] == "MANDATORY_NOT_FOUND"
    assert missing["details"] == {"api_name": "Account_Name", "json_path": "$.data[1].Account_Name"}


def test_nothing_created_is_a_400(api: httpx.Client) -> None:
    answer = _post(api, "Contacts", {"First_Name": "No surname"}, trigger=[])
    assert answer.status_code == 400
    assert answer.json()["data"][0]["details"]["api_name"] == "Last_Name"


def test_a_no_duplicates_field_answers_duplicate_data(api: httpx.Client, zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(unique_fields={"Accounts": ["Xero_ID"]})
    first = _post(api, "Accounts", {"Account_Name": "A", "Xero_ID": "abc"}, trigger=[])
    second = _post(api, "Accounts", {"Account_Name": "B", "Xero_ID": "abc"}, trigger=[])
    assert first.status_code == 201
    assert second.status_code == 400
    assert_contract(second)
    [refused] = second.json()["data"]
    assert refused["code"] == "DUPLICATE_DATA"
    assert refused["details"]["duplicate_record"]["id"] == first.json()["data"][0]["details"]["id"]
    updated = api.put("/crm/v8/Accounts", json={"data": [{"id": ACME, "Xero_ID": "abc"}], "trigger": []})
    assert updated.json()["data"][0]["code"] == "DUPLICATE_DATA"


def test_more_than_100_records_are_refused(api: httpx.Client) -> None:
    answer = _post(api, "Accounts", *[{"Account_Name": f"A{i}"} for i in range(101)], trigger=[])
    assert answer.status_code == 400
    assert answer.json()["code"] == "LIMIT_EXCEEDED"


def test_workflow_rules_fire_unless_trigger_says_otherwise(api: httpx.Client, zoho_sandbox: Any) -> None:
    calls_before = len(zoho_sandbox.app.webhook_deliveries())
    _post(api, "Accounts", {"Account_Name": "Quiet"}, trigger=[])
    assert len(zoho_sandbox.app.webhook_deliveries()) == calls_before
