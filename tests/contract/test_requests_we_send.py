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


def test_a_full_runs_range_reads_fit_the_coql_spec_and_limits(recorded: list[Sent]) -> None:
    """services/zoho_pages.py: the Contacts, then the Accounts, of an id span, as COQL bodies the
    spec accepts, within Zoho's COQL limits (LIMIT <= 2,000, <= 50 columns, no IN list)."""
    from datetime import UTC, datetime

    from chalicelib.deadline import Deadline
    from chalicelib.models.run_plan import BatchStatus, RunBatch
    from chalicelib.models.runs import Run, RunState, WindowKind
    from chalicelib.services.zoho_pages import ZohoPages
    from chalicelib.wiring import container

    class NoOtherBatches:
        def get_batch(self, run_id: str, number: int) -> RunBatch | None:
            return None

    now = datetime.now(UTC).isoformat(timespec="seconds")
    run = Run(run_id="contract", kind=WindowKind.ALL, state=RunState.RUNNING, created_at=now, until=now)
    ids = sorted((a["id"] for a in ZOHO_ACCOUNTS if a["Add_to_Xero"]), key=int)
    pages = ZohoPages(container().zoho, NoOtherBatches(), container().field_map)

    assert pages.read(run, RunBatch(0, ids, BatchStatus.PENDING, "accounts"), Deadline(30))

    coql = [r for r in recorded if r.method == "POST" and r.path == "/crm/v8/coql"]
    assert [json.loads(r.content)["select_query"].split(" from ")[1].split()[0] for r in coql] == [
        "Contacts",
        "Accounts",
    ]
    for request in coql:
        body = json.loads(request.content)
        assert zoho_spec.request_errors("POST", "/crm/v8/coql", body) == [], body
        query = body["select_query"]
        assert query.endswith("order by id asc limit 2000")
        assert len(query.split(" from ")[0].removeprefix("select ").split(", ")) <= 50
        assert " in (" not in query
