"""The requests a sweep of Zoho's deleted Accounts sends fit the official specs: Zoho CRM v8's
"Get Deleted Records" (its parameters and If-Modified-Since) and Xero's contact archiving."""

from __future__ import annotations

import json

from chalicelib.deadline import Deadline
from sandbox.specs import xero_spec, zoho_spec
from sandbox.zoho.timefmt import parse_datetime
from tests.contract.conftest import Sent

ACME = "5725767000000400001"


def test_a_sweep_asks_zoho_and_xero_as_their_specs_say(recorded: list[Sent], click, live) -> None:
    from chalicelib.wiring import container

    click(ACME)
    live.zoho.delete("Accounts", ACME)

    assert container().zoho_deletions.archive_deleted_since(Deadline(30)).archived == [ACME]

    [listing] = [r for r in recorded if r.path == "/crm/v8/Accounts/deleted"]
    operation = zoho_spec.find_operation("GET", listing.path)
    assert operation is not None and operation.spec["operationId"] == "Get Deleted Records"
    assert set(listing.params) <= {"type", "page", "per_page"}
    assert listing.params["type"] == "all" and 1 <= int(listing.params["per_page"]) <= 200
    assert parse_datetime(listing.headers["If-Modified-Since"]) is not None
    [archive] = [r for r in recorded if r.method == "POST" and r.path.endswith("/Contacts")][-1:]
    body = json.loads(archive.content)
    assert xero_spec.contact_request_errors(body) == [], body
    assert body["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert 0 < len(archive.headers["Idempotency-Key"]) <= 128
