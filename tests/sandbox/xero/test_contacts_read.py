"""GET /Contacts and /Contacts/{id}: filters, paging, shapes - and every response against the spec."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.seed_data import XERO_CONTACTS, XERO_SHORT_CODE
from sandbox.specs.xero_spec import response_errors
from tests.sandbox.xero.conftest import XeroApi, contact_names

FJORD, GREENLEAF, JUNIPER = (c["ContactID"] for c in XERO_CONTACTS[:3])
ACTIVE_SEED = [c["Name"] for c in XERO_CONTACTS if c["ContactStatus"] == "ACTIVE"]


def ok_json(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert response_errors(body) == [], response_errors(body)
    return body


def test_envelope_and_default_list(xero: XeroApi):
    body = ok_json(xero.get("/Contacts"))
    assert body["Status"] == "OK" and body["ProviderName"] and body["DateTimeUTC"].startswith("/Date(")
    assert "pagination" not in body
    assert [c["Name"] for c in body["Contacts"]] == ACTIVE_SEED  # archived Juniper excluded; default order


def test_contact_shape_like_xero(xero: XeroApi):
    (contact,) = ok_json(xero.get(f"/Contacts/{FJORD}"))["Contacts"]
    assert contact["ContactID"] == FJORD and contact["ContactStatus"] == "ACTIVE"
    assert [a["AddressType"] for a in contact["Addresses"]] == ["POBOX", "STREET"]
    assert [p["PhoneType"] for p in contact["Phones"]] == ["DEFAULT", "DDI", "FAX", "MOBILE"]
    assert contact["UpdatedDateUTC"].endswith("+0000)/") and contact["HasValidationErrors"] is False
    assert None not in contact.values() and "" not in contact.values()
    assert "ContactNumber" not in contact  # empty fields are omitted, never null


def test_include_archived(xero: XeroApi):
    names = contact_names(xero.get("/Contacts", params={"includeArchived": "true"}))
    assert "Juniper Legal" in names and len(names) == len(XERO_CONTACTS)


def test_lookup_by_guid_or_contact_number_includes_archived(xero: XeroApi):
    by_id = ok_json(xero.get(f"/Contacts/{JUNIPER}"))["Contacts"][0]
    assert by_id["ContactStatus"] == "ARCHIVED"
    by_number = ok_json(xero.get(f"/Contacts/{by_id['ContactNumber']}"))["Contacts"][0]
    assert by_number["ContactID"] == JUNIPER
    assert ok_json(xero.get(f"/Contacts/{GREENLEAF.upper()}"))["Contacts"][0]["Name"] == "Greenleaf Organics"
    assert xero.get("/Contacts/00000000-0000-0000-0000-00000000abcd").status_code == 404
    assert xero.get("/Contacts/NO-SUCH-NUMBER").status_code == 404
    assert xero.get("/Contacts/cust-0042").status_code == 404  # ContactNumber matches exactly


def test_paging_defaults_and_clamps(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.generate_contacts(1200, seed=7)
    active = len(xero_sandbox.app.contacts(include_archived=False))
    first = ok_json(xero.get("/Contacts", params={"page": 1}))
    assert len(first["Contacts"]) == 100
    assert first["pagination"] == {
        "page": 1,
        "pageSize": 100,
        "pageCount": -(-active // 100),
        "itemCount": active,
    }
    assert (
        ok_json(xero.get("/Contacts", params={"page": 2, "pageSize": 5000}))["pagination"]["pageSize"] == 1000
    )
    tiny = ok_json(xero.get("/Contacts", params={"page": 1, "pageSize": 0}))
    assert tiny["pagination"]["pageSize"] == 1 and len(tiny["Contacts"]) == 1
    last = ok_json(xero.get("/Contacts", params={"page": 2, "pageSize": 1000}))
    assert len(last["Contacts"]) == active - 1000
    beyond = ok_json(xero.get("/Contacts", params={"page": 99}))
    assert beyond["Contacts"] == [] and beyond["pagination"]["itemCount"] == active
    every = [
        c["ContactID"]
        for p in (1, 2)
        for c in xero.get("/Contacts", params={"page": p, "pageSize": 1000}).json()["Contacts"]
    ]
    assert len(set(every)) == active


def test_paged_and_single_reads_carry_full_detail_unpaged_does_not(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.put_contact(
        {"ContactID": "11111111-2222-4333-8444-555555555555", "Name": "Old Fjord", "ContactStatus": "ARCHIVED",
         "MergedToContactID": FJORD, "ContactPersons": [{"FirstName": "Ann", "IncludeInEmails": True}]}
    )  # fmt: skip
    merged = "11111111-2222-4333-8444-555555555555"
    assert ok_json(xero.get(f"/Contacts/{merged}"))["Contacts"][0]["MergedToContactID"] == FJORD
    paged = ok_json(xero.get("/Contacts", params={"page": 1, "includeArchived": "true", "IDs": merged}))
    assert paged["Contacts"][0]["MergedToContactID"] == FJORD and paged["Contacts"][0]["ContactPersons"]
    unpaged = ok_json(xero.get("/Contacts", params={"IDs": merged}))["Contacts"][0]
    assert "MergedToContactID" not in unpaged and "ContactPersons" not in unpaged


def test_ids_filter_includes_archived_and_rejects_non_guids(xero: XeroApi):
    response = xero.get("/Contacts", params={"IDs": f"{JUNIPER},{GREENLEAF}"})
    assert sorted(contact_names(response)) == ["Greenleaf Organics", "Juniper Legal"]
    bad = xero.get("/Contacts", params={"IDs": "not-a-guid"})
    assert bad.status_code == 400 and bad.json()["Type"] == "QueryParseException"


def test_search_term_is_case_insensitive_across_fields(xero: XeroApi):
    assert contact_names(xero.get("/Contacts", params={"searchTerm": "FJORD"})) == ["Fjord & Fell Outfitters"]
    assert contact_names(xero.get("/Contacts", params={"searchTerm": "cust-00"})) == ["Greenleaf Organics"]
    assert contact_names(xero.get("/Contacts", params={"searchTerm": "RIDGEWAY.EXAMPLE"})) == [
        "Ridgeway Hardware"
    ]
    assert contact_names(xero.get("/Contacts", params={"searchTerm": "nothing like this"})) == []


def test_order(xero: XeroApi):
    names = contact_names(xero.get("/Contacts", params={"order": "Name DESC"}))
    assert names == sorted(ACTIVE_SEED, key=str.casefold, reverse=True)
    bad = xero.get("/Contacts", params={"order": "Colour"})
    assert bad.status_code == 400 and "Colour" in bad.json()["Message"]


def test_if_modified_since(xero_sandbox, xero: XeroApi):
    xero_sandbox.app.clock.advance(10)
    since = datetime.fromtimestamp(xero_sandbox.app.clock.now(), UTC)
    xero_sandbox.app.clock.advance(5)
    assert xero.save({"ContactID": GREENLEAF, "AccountNumber": "A-1"}).status_code == 200
    iso = xero.get("/Contacts", headers={"If-Modified-Since": since.isoformat()})
    assert contact_names(iso) == ["Greenleaf Organics"]
    http_date = since.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert contact_names(xero.get("/Contacts", headers={"If-Modified-Since": http_date})) == [
        "Greenleaf Organics"
    ]


def test_summary_only_is_paged_and_light(xero: XeroApi):
    body = ok_json(xero.get("/Contacts", params={"summaryOnly": "true"}))
    assert body["pagination"]["page"] == 1
    assert all("Addresses" not in c and "ContactPersons" not in c for c in body["Contacts"])


def test_organisation_has_short_code(xero: XeroApi):
    body = xero.get("/Organisation").json()
    assert response_errors(body, "Organisations") == []
    (org,) = body["Organisations"]
    assert org["ShortCode"] == XERO_SHORT_CODE and org["OrganisationID"] == xero.tenant_id


def test_paths_are_case_insensitive(xero: XeroApi):
    assert xero.http.get("/API.XRO/2.0/contacts", headers=xero.headers()).status_code == 200
    assert xero.http.get("/api.xro/2.0/Nope", headers=xero.headers()).status_code == 404
    assert xero.http.delete("/api.xro/2.0/Contacts", headers=xero.headers()).status_code == 405
