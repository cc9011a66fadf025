"""History & Notes for contacts (PUT/GET /Contacts/{ContactID}/History), and the GET /Contacts
features a Xero → Zoho run relies on: If-Modified-Since, archived contacts, 1,000-contact pages,
and a ContactNumber set later on an existing contact."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from sandbox.specs.xero_spec import history_request_errors, response_errors
from tests.sandbox.xero.conftest import XeroApi

UNKNOWN_ID = "0f6a8c57-1b1e-4a57-8d2c-000000000000"


def _contact_id(xero: XeroApi, name: str = "Noted Pty Ltd") -> str:
    return str(xero.save({"Name": name}, method="PUT").json()["Contacts"][0]["ContactID"])


def test_a_note_round_trips(xero: XeroApi, xero_sandbox: Any):
    contact_id = _contact_id(xero)
    note = "Not synced to Zoho CRM: Account_Name is mandatory. Fix it in Xero and save again."
    put = xero.put(f"/Contacts/{contact_id}/History", json={"HistoryRecords": [{"Details": note}]})
    assert put.status_code == 200, put.text
    body = put.json()
    assert response_errors(body, "HistoryRecords") == []
    [saved] = body["HistoryRecords"]
    assert saved["Details"] == note and saved["ValidationErrors"] == []
    assert saved["DateUTC"].startswith("/Date(") and len(saved["DateUTCString"]) == len("2019-02-23T05:23:20")

    got = xero.get(f"/Contacts/{contact_id}/History").json()
    assert response_errors(got, "HistoryRecords") == []
    assert [(r["Changes"], r["User"], r["Details"]) for r in got["HistoryRecords"]] == [
        ("Note", "System Generated", note),  # newest first
        ("Created", "System Generated", "Contact Noted Pty Ltd created."),
    ]
    assert (
        xero.post(f"/Contacts/{contact_id}/History", json={"HistoryRecords": [{"Details": "2"}]}).status_code
        == 200
    )


def test_history_calls_are_logged_rate_limited_and_idempotent(xero: XeroApi, xero_sandbox: Any):
    contact_id = _contact_id(xero)
    xero_sandbox.app.clear_calls()
    headers = {"Idempotency-Key": "note-1"}
    body = {"HistoryRecords": [{"Details": "Once"}]}
    first = xero.put(f"/Contacts/{contact_id}/History", json=body, headers=headers)
    again = xero.put(f"/Contacts/{contact_id}/History", json=body, headers=headers)
    assert first.json() == again.json()
    assert int(again.headers["X-MinLimit-Remaining"]) == int(first.headers["X-MinLimit-Remaining"]) - 1
    xero.get(f"/Contacts/{contact_id}/History")
    assert xero_sandbox.app.call_counts() == {
        "PUT /api.xro/2.0/Contacts/{ContactID}/History": 2,
        "GET /api.xro/2.0/Contacts/{ContactID}/History": 1,
    }
    notes = [r for r in xero_sandbox.app.contact_history(contact_id) if r["Changes"] == "Note"]
    assert len(notes) == 1


def test_bad_notes_get_a_clear_400_and_nothing_is_stored(xero: XeroApi, xero_sandbox: Any):
    contact_id = _contact_id(xero)
    path = f"/Contacts/{contact_id}/History"
    too_long = xero.put(path, json={"HistoryRecords": [{"Details": "ok"}, {"Details": "x" * 251}]})
    assert too_long.status_code == 400
    error = too_long.json()
    assert (error["ErrorNumber"], error["Type"]) == (10, "ValidationException")
    assert error["Elements"][0]["ValidationErrors"] == [
        {"Message": "Details must not be more than 250 characters long."}
    ]
    assert xero.put(path, json={"HistoryRecords": [{"Details": "x" * 250}]}).status_code == 200
    assert xero.put(path, json={"HistoryRecords": [{"Details": "  "}]}).status_code == 400
    assert xero.put(path, json={"HistoryRecords": []}).json()["Type"] == "NoDataProcessedException"
    assert xero.put(path, content=b"").json()["Type"] == "NoDataProcessedException"
    assert xero.put(path, content=b"{nope").json()["Type"] == "PostDataInvalidException"
    unknown = xero.put(path, json={"HistoryRecords": [{"Details": "hi", "Note": "typo"}]})
    assert (
        unknown.status_code == 400
        and "'Note' is not a property defined by the spec" in unknown.json()["Message"]
    )
    read_only = xero.put(path, json={"HistoryRecords": [{"Details": "hi", "DateUTC": "/Date(0)/"}]})
    assert read_only.status_code == 400 and "read-only" in read_only.json()["Message"]
    notes = [r["Details"] for r in xero_sandbox.app.contact_history(contact_id) if r["Changes"] == "Note"]
    assert notes == ["x" * 250]
    assert (
        xero.put(f"/Contacts/{UNKNOWN_ID}/History", json={"HistoryRecords": [{"Details": "a"}]}).status_code
        == 404
    )
    assert xero.get(f"/Contacts/{UNKNOWN_ID}/History").status_code == 404


def test_history_needs_the_contacts_scopes(xero: XeroApi, xero_sandbox: Any):
    contact_id = _contact_id(xero)
    assert (
        xero.get(f"/Contacts/{contact_id}/History", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )


def test_the_history_contract_helper():
    assert history_request_errors({"HistoryRecords": [{"Details": "Hello World"}]}) == []
    assert history_request_errors({"HistoryRecords": [{"Detail": "typo"}]}) == [
        "HistoryRecords[0].Detail: 'Detail' is not a property defined by the spec"
    ]


def test_notes_do_not_raise_webhook_events_or_change_the_contact(xero: XeroApi, xero_sandbox: Any):
    contact_id = _contact_id(xero)
    before = xero.get(f"/Contacts/{contact_id}").json()["Contacts"][0]["UpdatedDateUTC"]
    xero_sandbox.app.clock.advance(5)
    xero.put(f"/Contacts/{contact_id}/History", json={"HistoryRecords": [{"Details": "a note"}]})
    assert xero.get(f"/Contacts/{contact_id}").json()["Contacts"][0]["UpdatedDateUTC"] == before


# --- GET /Contacts for xero_to_zoho runs ----------------------------------------------------


def test_if_modified_since_with_archived_and_pages_of_a_thousand(xero: XeroApi, xero_sandbox: Any):
    sb = xero_sandbox.app
    sb.generate_contacts(1500)
    sb.clock.advance(10)
    since = sb.clock.now() - 1
    changed = [c["ContactID"] for c in sb.contacts(include_archived=False)[:1200]]
    for contact_id in changed[:1195]:
        sb.user_edit_contact(contact_id, {"FirstName": "Changed"})
    for contact_id in changed[1195:]:
        sb.user_edit_contact(contact_id, {"ContactStatus": "ARCHIVED"})
    header = {"If-Modified-Since": formatdate(since, usegmt=True)}

    def page(number: int, **params: str) -> dict[str, Any]:
        query = {"page": str(number), "pageSize": "1000", **params}
        return dict(xero.get("/Contacts", params=query, headers=header).json())

    first, second = page(1, includeArchived="true"), page(2, includeArchived="true")
    assert first["pagination"] == {"page": 1, "pageSize": 1000, "pageCount": 2, "itemCount": 1200}
    seen = [c["ContactID"] for c in first["Contacts"] + second["Contacts"]]
    assert sorted(seen) == sorted(changed)
    assert sum(c["ContactStatus"] == "ARCHIVED" for c in second["Contacts"] + first["Contacts"]) == 5
    assert page(1)["pagination"]["itemCount"] == 1195  # archived only when asked
    everything = xero.get("/Contacts", params={"page": "1", "pageSize": "1000"}).json()["pagination"]
    iso = {"If-Modified-Since": "1970-01-01T00:00:00"}  # ISO 8601 works too
    assert (
        xero.get("/Contacts", params={"page": "1", "pageSize": "1000"}, headers=iso).json()["pagination"]
        == everything
    )


def test_a_contact_number_can_be_set_later_on_an_existing_contact(xero: XeroApi):
    contact_id = _contact_id(xero, "Created In Xero")
    account_id = "5725767000000412345"
    answer = xero.save({"ContactID": contact_id, "ContactNumber": account_id}).json()["Contacts"][0]
    assert answer["StatusAttributeString"] == "OK" and answer["ContactNumber"] == account_id
    assert xero.get(f"/Contacts/{account_id}").json()["Contacts"][0]["ContactID"] == contact_id
    by_id = xero.post(f"/Contacts/{contact_id}", json={"Contacts": [{"ContactNumber": account_id + "9"}]})
    assert by_id.json()["Contacts"][0]["ContactNumber"] == account_id + "9"
