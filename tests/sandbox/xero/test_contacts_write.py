"""PUT/POST /Contacts: create vs update, batch semantics, Xero's validation rules."""

from __future__ import annotations

from sandbox.seed_data import XERO_CONTACTS
from sandbox.specs.xero_spec import response_errors
from sandbox.xero.wire import EMPTY_GUID
from tests.sandbox.xero.conftest import XeroApi

FJORD, GREENLEAF, JUNIPER = (c["ContactID"] for c in XERO_CONTACTS[:3])
JUNIPER_NUMBER = XERO_CONTACTS[2]["ContactNumber"]
NAME_TAKEN = (
    "The contact name {} is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)
NUMBER_TAKEN = (
    "The contact number {} is already assigned to another contact. "
    "The contact number must be unique across all contacts."
)


def stored(app, name: str) -> list[dict]:
    return [c for c in app.contacts() if c["Name"] == name]


def only_element(response) -> dict:
    assert response.status_code == 200, response.text
    assert response_errors(response.json()) == []
    (element,) = response.json()["Contacts"]
    return element


def errors_of(element: dict) -> list[str]:
    return [e["Message"] for e in element.get("ValidationErrors", [])]


def test_put_creates_and_returns_the_new_contact(xero_sandbox, xero: XeroApi):
    element = only_element(xero.save({"Name": "New Co", "EmailAddress": "a@new.example"}, method="PUT"))
    assert element["StatusAttributeString"] == "OK" and element["ContactID"] != EMPTY_GUID
    assert xero_sandbox.app.contact(element["ContactID"])["EmailAddress"] == "a@new.example"


def test_put_refuses_an_existing_name_or_number(xero_sandbox, xero: XeroApi):
    response = xero.save(
        {"Name": "fjord & fell OUTFITTERS"}, {"Name": "Other", "ContactNumber": "CUST-0042"}, method="PUT"
    )
    first, second = response.json()["Contacts"]
    assert errors_of(first) == [NAME_TAKEN.format("fjord & fell OUTFITTERS")]
    assert errors_of(second) == [NUMBER_TAKEN.format("CUST-0042")]
    assert stored(xero_sandbox.app, "Other") == []


def test_post_updates_by_contact_id_and_keeps_omitted_fields(xero_sandbox, xero: XeroApi):
    element = only_element(xero.save({"ContactID": FJORD, "Name": "Fjord & Fell Ltd"}))
    assert element["Name"] == "Fjord & Fell Ltd" and element["EmailAddress"] == "hello@fjordfell.example"
    assert len(xero_sandbox.app.contacts()) == len(XERO_CONTACTS)


def test_post_matches_an_existing_contact_number(xero_sandbox, xero: XeroApi):
    element = only_element(xero.save({"ContactNumber": "CUST-0042", "EmailAddress": "green@leaf.example"}))
    assert element["ContactID"] == GREENLEAF and element["Name"] == "Greenleaf Organics"
    assert len(xero_sandbox.app.contacts()) == len(XERO_CONTACTS)


def test_post_without_match_creates(xero_sandbox, xero: XeroApi):
    element = only_element(xero.save({"Name": "Brand New", "ContactNumber": "ZOHO-1"}))
    assert xero_sandbox.app.contact("ZOHO-1")["ContactID"] == element["ContactID"]


def test_post_to_contact_id_path_and_bare_object_body(xero_sandbox, xero: XeroApi):
    response = xero.post(f"/Contacts/{GREENLEAF}", json={"AccountNumber": "ACC-1"})
    assert response.status_code == 200 and response.json()["Contacts"][0]["AccountNumber"] == "ACC-1"
    assert (
        xero.post(
            "/Contacts/11111111-1111-4111-8111-111111111111", json={"Contacts": [{"Name": "X"}]}
        ).status_code
        == 404
    )
    assert xero_sandbox.app.contact(GREENLEAF)["AccountNumber"] == "ACC-1"


def test_unknown_contact_id_is_an_element_error(xero: XeroApi):
    element = xero.save({"ContactID": "11111111-1111-4111-8111-111111111111", "Name": "Ghost"}).json()[
        "Contacts"
    ][0]
    assert element["StatusAttributeString"] == "ERROR" and "could not be found" in errors_of(element)[0]


def test_summarize_errors_false_is_200_with_a_verdict_per_element(xero_sandbox, xero: XeroApi):
    response = xero.save({"Name": "Good One"}, {"Name": "Greenleaf Organics"}, summarize=False)
    assert response.status_code == 200 and response_errors(response.json()) == []
    good, bad = response.json()["Contacts"]
    assert good["StatusAttributeString"] == "OK" and good["HasValidationErrors"] is False
    assert bad["StatusAttributeString"] == "ERROR" and bad["HasValidationErrors"] is True
    assert errors_of(bad) == [NAME_TAKEN.format("Greenleaf Organics")]
    assert bad["ContactID"] == EMPTY_GUID  # a failed create has no real id
    assert len(stored(xero_sandbox.app, "Greenleaf Organics")) == 1


def test_summarized_errors_400_while_valid_elements_are_still_saved(xero_sandbox, xero: XeroApi):
    for summarize in (None, True):  # absent (the real default, whatever the spec says) and explicit
        name = f"Saved Anyway {summarize}"
        response = xero.save({"Name": name}, {"Name": "Greenleaf Organics"}, summarize=summarize)
        assert response.status_code == 400
        body = response.json()
        assert response_errors(body, "Error") == []
        assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
            10, "ValidationException", "A validation exception occurred",
        )  # fmt: skip
        (failed,) = body["Elements"]  # only the failures are listed ...
        assert failed["Name"] == "Greenleaf Organics" and failed["HasValidationErrors"] is True
        assert len(stored(xero_sandbox.app, name)) == 1  # ... but the valid one was created


def test_summarized_success_has_no_status_strings(xero: XeroApi):
    element = xero.save({"Name": "Quiet"}, summarize=None).json()["Contacts"][0]
    assert "StatusAttributeString" not in element


def test_empty_and_unreadable_bodies(xero: XeroApi):
    for body in (b"", b"{}", b'{"Contacts": []}'):
        response = xero.post("/Contacts", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert (response.json()["ErrorNumber"], response.json()["Type"]) == (17, "NoDataProcessedException")
    broken = xero.post("/Contacts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["Type"] == "PostDataInvalidException"


def test_name_is_required_on_create_only(xero: XeroApi):
    element = xero.save({"EmailAddress": "x@y.example"}).json()["Contacts"][0]
    assert errors_of(element) == ["Contact Name cannot be empty."]
    assert (
        xero.save({"ContactID": FJORD, "AccountNumber": "A"}).json()["Contacts"][0]["StatusAttributeString"]
        == "OK"
    )
    blank = xero.save({"ContactID": FJORD, "Name": "  "}).json()["Contacts"][0]
    assert errors_of(blank) == ["Contact Name cannot be empty."]


def test_name_uniqueness_is_among_active_contacts_case_insensitively(xero_sandbox, xero: XeroApi):
    assert errors_of(xero.save({"Name": "RIDGEWAY hardware"}).json()["Contacts"][0]) == [
        NAME_TAKEN.format("RIDGEWAY hardware")
    ]
    # Juniper Legal is archived: its name is free for a new active contact.
    assert xero.save({"Name": "Juniper Legal"}).json()["Contacts"][0]["StatusAttributeString"] == "OK"
    # Renaming onto another active contact's name fails too.
    rename = xero.save({"ContactID": FJORD, "Name": "Tasman Freight Co"}).json()["Contacts"][0]
    assert errors_of(rename) == [NAME_TAKEN.format("Tasman Freight Co")]


def test_contact_number_is_unique_across_all_contacts_including_archived(xero: XeroApi):
    response = xero.save({"Name": "Juniper Two", "ContactNumber": JUNIPER_NUMBER}, method="PUT")
    assert errors_of(response.json()["Contacts"][0]) == [NUMBER_TAKEN.format(JUNIPER_NUMBER)]
    taken = xero.save({"ContactID": FJORD, "ContactNumber": "SUP-0007"}).json()["Contacts"][0]
    assert errors_of(taken) == [NUMBER_TAKEN.format("SUP-0007")]


def test_at_most_five_contact_persons(xero: XeroApi):
    people = [{"FirstName": f"P{i}", "LastName": "X", "EmailAddress": f"p{i}@x.example"} for i in range(6)]
    six = xero.save({"Name": "Six People", "ContactPersons": people}).json()["Contacts"][0]
    assert six["StatusAttributeString"] == "ERROR" and "5 contact persons" in errors_of(six)[0]
    five = xero.save({"Name": "Five People", "ContactPersons": people[:5]}).json()["Contacts"][0]
    assert five["StatusAttributeString"] == "OK" and len(five["ContactPersons"]) == 5


def test_field_lengths_come_from_the_spec(xero_sandbox, xero: XeroApi):
    response = xero.save(
        {"Name": "N" * 256},
        {"Name": "Long Number", "ContactNumber": "9" * 51},
        {"Name": "Long City", "Addresses": [{"AddressType": "STREET", "City": "C" * 256}]},
        {"Name": "Long Phone", "Phones": [{"PhoneType": "MOBILE", "PhoneAreaCode": "1" * 11}]},
        {"Name": "N" * 255},
    )
    verdicts = [(c["StatusAttributeString"], errors_of(c)) for c in response.json()["Contacts"]]
    assert verdicts == [
        ("ERROR", ["Name must not be more than 255 characters long."]),
        ("ERROR", ["ContactNumber must not be more than 50 characters long."]),
        ("ERROR", ["City must not be more than 255 characters long."]),
        ("ERROR", ["PhoneAreaCode must not be more than 10 characters long."]),
        ("OK", []),
    ]
    # Element-level errors, but still recorded as contract violations of the request.
    assert len(xero_sandbox.app.calls()[-1]["contract_violations"]) == 4


def test_email_must_be_valid(xero: XeroApi):
    for email in ("reception@harbour", "no-at-sign.example", "ümlaut@x.example", "two@@x.example"):
        element = xero.save({"Name": f"Mail {email}", "EmailAddress": email}).json()["Contacts"][0]
        assert errors_of(element) == ["Email address must be valid."], email
    person = {"FirstName": "A", "EmailAddress": "bad@"}
    element = xero.save({"Name": "Person Mail", "ContactPersons": [person]}).json()["Contacts"][0]
    assert errors_of(element) == ["Email address must be valid."]


def test_website_is_read_only(xero_sandbox, xero: XeroApi):
    # Contract mode (default): sending a read-only field is a contract violation.
    response = xero.save({"Name": "Site Co", "Website": "https://site.example"})
    assert response.status_code == 400 and response.json()["Type"] == "PostDataInvalidException"
    assert "Website" in response.json()["Message"]
    assert "Contacts[0].Website" in xero_sandbox.app.calls()[-1]["contract_violations"][0]
    # Without contract checks it is silently ignored, like Xero does.
    xero_sandbox.app.configure(validate_requests=False)
    element = only_element(xero.save({"Name": "Site Co", "Website": "https://site.example"}))
    assert "Website" not in element and "Website" not in xero_sandbox.app.contact(element["ContactID"])


def test_ui_entered_website_without_scheme_blocks_every_api_update(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.put_contact(
        {"ContactID": FJORD, "Name": "Fjord & Fell Outfitters", "Website": "www.fjord.example"}
    )
    element = xero.save({"ContactID": FJORD, "AccountNumber": "A-1"}).json()["Contacts"][0]
    assert errors_of(element) == ["Website must be valid."]
    xero_sandbox.app.put_contact(
        {"ContactID": FJORD, "Name": "Fjord & Fell Outfitters", "Website": "https://fjord.example"}
    )
    assert (
        xero.save({"ContactID": FJORD, "AccountNumber": "A-1"}).json()["Contacts"][0]["StatusAttributeString"]
        == "OK"
    )


def test_archived_contacts_cannot_be_edited_only_restored(xero_sandbox, xero: XeroApi):
    archived_msg = (
        "The specified contact details matched an archived contact. "
        "Archived contacts cannot currently be edited via the API."
    )
    by_id = xero.save({"ContactID": JUNIPER, "EmailAddress": "law@juniper.example"}).json()["Contacts"][0]
    assert errors_of(by_id) == [archived_msg]
    by_number = xero.save({"ContactNumber": JUNIPER_NUMBER, "Name": "Juniper Legal"}).json()["Contacts"][0]
    assert errors_of(by_number) == [archived_msg] and by_number["ContactID"] == JUNIPER
    restored = only_element(
        xero.save({"ContactID": JUNIPER, "ContactStatus": "ACTIVE", "EmailAddress": "law@j.example"})
    )
    assert restored["ContactStatus"] == "ACTIVE" and restored["EmailAddress"] == "law@j.example"


def test_restoring_fails_when_an_active_contact_has_the_name(xero: XeroApi):
    assert only_element(xero.save({"Name": "Juniper Legal"}))["StatusAttributeString"] == "OK"
    restore = xero.save({"ContactID": JUNIPER, "ContactStatus": "ACTIVE"}).json()["Contacts"][0]
    assert errors_of(restore) == [NAME_TAKEN.format("Juniper Legal")]


def test_archiving_hides_the_contact_from_lists(xero: XeroApi):
    assert (
        only_element(xero.save({"ContactID": FJORD, "ContactStatus": "ARCHIVED"}))["ContactStatus"]
        == "ARCHIVED"
    )
    names = [c["Name"] for c in xero.get("/Contacts").json()["Contacts"]]
    assert "Fjord & Fell Outfitters" not in names
    # Its name is now free for an active contact.
    assert only_element(xero.save({"Name": "Fjord & Fell Outfitters"}))["ContactID"] != FJORD


def test_addresses_and_phones_replace_only_their_own_slot(xero: XeroApi):
    created = only_element(
        xero.save({"Name": "Slots", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "111"}],
                   "Addresses": [{"AddressType": "POBOX", "City": "Sydney"}]})
    )  # fmt: skip
    updated = only_element(
        xero.save(
            {"ContactID": created["ContactID"], "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "222"}]}
        )
    )
    phones = {p["PhoneType"]: p.get("PhoneNumber") for p in updated["Phones"]}
    assert phones == {"DEFAULT": "111", "DDI": None, "FAX": None, "MOBILE": "222"}
    assert updated["Addresses"][0] == {"AddressType": "POBOX", "City": "Sydney"}


def test_unknown_properties_are_contract_violations(xero_sandbox, xero: XeroApi):
    response = xero.save({"Name": "Typo Co", "Emial": "x@y.example"})
    assert response.status_code == 400 and "Emial" in response.json()["Message"]
    assert stored(xero_sandbox.app, "Typo Co") == []


def test_renames_and_renumbers_free_the_old_values(xero_sandbox, xero: XeroApi):
    only_element(
        xero.save({"ContactID": GREENLEAF, "Name": "Greenleaf Renamed", "ContactNumber": "CUST-9999"})
    )
    assert xero_sandbox.app.contact("CUST-0042") is None
    assert xero_sandbox.app.contact("CUST-9999")["ContactID"] == GREENLEAF
    fresh = only_element(
        xero.save({"Name": "Greenleaf Organics", "ContactNumber": "CUST-0042"}, method="PUT")
    )
    assert fresh["ContactID"] != GREENLEAF
    clash = xero.save({"Name": "greenleaf RENAMED"}).json()["Contacts"][0]
    assert errors_of(clash) == [NAME_TAKEN.format("greenleaf RENAMED")]
