"""Every request body our app sends to Xero and Zoho fits the official OpenAPI specs.

Requests are recorded at our own HTTP sessions (a requests response hook on each
upstream's session), so what is checked is exactly what went over the wire, for every
seeded Account: created, updated, adopted, unchanged and each rejection.
"""

from __future__ import annotations

import json

from sandbox.seed_data import ZOHO_ACCOUNTS
from sandbox.specs import xero_spec, zoho_spec
from tests.contract.conftest import Sent


def test_every_request_fits_the_specs(recorded: list[Sent], click) -> None:
    for account in ZOHO_ACCOUNTS:
        click(account["id"])
    click(ZOHO_ACCOUNTS[0]["id"])  # unchanged

    xero_writes = [r for r in recorded if r.method in ("PUT", "POST") and "/api.xro/2.0/Contacts" in r.path]
    zoho_writes = [r for r in recorded if r.method == "PUT" and r.path.startswith("/crm/v8/")]
    assert len(xero_writes) >= 5
    assert len(zoho_writes) >= len(ZOHO_ACCOUNTS)
    for request in xero_writes:
        body = json.loads(request.content)
        assert xero_spec.contact_request_errors(body) == [], body
        assert request.params["summarizeErrors"] == "false"
        assert 0 < len(request.headers["Idempotency-Key"]) <= 128
        assert request.headers["Accept"] == "application/json"
    for request in zoho_writes:
        body = json.loads(request.content)
        assert zoho_spec.request_errors("PUT", request.path, body) == [], body
        assert body["trigger"] == []
        assert len(body["data"]) <= 100


def test_reads_ask_zoho_only_for_mapped_fields(recorded: list[Sent], click) -> None:
    from chalicelib.mapping import load_field_map

    click(ZOHO_ACCOUNTS[1]["id"])

    field_map = load_field_map()
    reads = [r for r in recorded if r.method == "GET" and r.path.startswith("/crm/v8/")]
    assert reads
    for request in reads:
        fields = request.params["fields"].split(",")
        assert len(fields) <= 50
        expected = (
            field_map.contact_fields() if request.path.endswith("/Contacts") else field_map.account_fields()
        )
        assert set(fields) == set(expected)
