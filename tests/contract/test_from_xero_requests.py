"""The requests Xero → Zoho CRM sends fit the official specs: reading changed contacts
(`GET /Contacts?IDs=`), setting the Contact Code, the History note, and Zoho's record inserts and
updates (each with `"trigger": []`). Recorded at our own HTTP client, as in test_requests_we_send.py.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.deadline import Deadline
from sandbox.specs import xero_spec, zoho_spec
from sandbox.stack import LocalStack
from tests.contract.conftest import Sent

ACME = "5725767000000400001"


def spec_operation(method: str, path: str) -> dict[str, Any]:
    return xero_spec.load_spec()["paths"][path][method.lower()]


def parameter_names(operation: dict[str, Any]) -> set[str]:
    spec = xero_spec.load_spec()
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        names.add(parameter["name"])
    return names


def test_every_request_of_a_xero_change_fits_the_specs(
    live: LocalStack, recorded: list[Sent], click: Any
) -> None:
    from chalicelib.wiring import container

    contact_id = click(ACME).json()["xero_contact_id"]
    new = live.xero.put_contact(
        {"Name": "Spec Check Ltd", "FirstName": "No", "EmailAddress": "n@spec.example"}
    )
    recorded.clear()
    live.xero.clock.advance(1)
    edited = live.xero.contact(contact_id) or {}
    live.xero.put_contact({**edited, "AccountNumber": "ACC-0001-B", "UpdatedDateUTC": None})
    container().xero_inbound.sync_contacts(live.xero.tenant_id, [contact_id, new["ContactID"]], Deadline(30))

    xero = [r for r in recorded if "/api.xro/2.0/" in r.path]
    reads = [r for r in xero if r.method == "GET" and r.path.endswith("/Contacts")]
    assert len(reads) == 1  # both contacts in one call
    assert set(reads[0].params) <= parameter_names(spec_operation("GET", "/Contacts"))
    assert set(reads[0].params["IDs"].split(",")) == {contact_id, new["ContactID"]}

    writes = [r for r in xero if r.method == "POST" and r.path.endswith("/Contacts")]
    assert writes  # the new contact's Contact Code
    for request in writes:
        assert xero_spec.contact_request_errors(json.loads(request.content)) == []
        assert request.headers["Idempotency-Key"]

    notes = [r for r in xero if r.method == "PUT" and r.path.endswith("/History")]
    assert len(notes) == 1  # Zoho refused the person without a last name
    assert notes[0].path.endswith(f"/Contacts/{new['ContactID']}/History")
    history = xero_spec._validator("HistoryRecords", "accounting", request=True, strict=True)
    body = json.loads(notes[0].content)
    assert [e.message for e in history.iter_errors(body)] == []
    assert "Last Name" in body["HistoryRecords"][0]["Details"]

    zoho = [
        r
        for r in recorded
        if r.method in ("POST", "PUT") and r.path.startswith("/crm/v8/") and "coql" not in r.path
    ]
    assert {(r.method, r.path) for r in zoho} >= {
        ("POST", "/crm/v8/Accounts"),
        ("POST", "/crm/v8/Contacts"),
        ("PUT", "/crm/v8/Accounts"),
    }
    for request in zoho:
        body = json.loads(request.content)
        assert zoho_spec.request_errors(request.method, request.path, body) == [], body
        assert body["trigger"] == []
        assert len(body["data"]) <= 100
