"""A full run reads Zoho by id range (services/zoho_pages.py): one COQL page of Accounts and their
Contacts for up to 2,000 Accounts instead of two reads per batch of 50, with the same outcomes; an
Account changed after the run began is read on its own, fresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.deadline import Deadline
from chalicelib.models.run_plan import BatchStatus, RunBatch
from chalicelib.models.runs import Run, RunState, WindowKind
from sandbox.seed_data import ZOHO_ACCOUNTS, account_id
from sandbox.stack import LocalStack
from tests.integration.test_runs import admin, drive, run_all, runs_queue, start

__all__ = ["admin", "drive", "run_all", "runs_queue", "start"]


def coql_queries(live: LocalStack) -> list[str]:
    return [
        str((c.get("request_body") or {}).get("select_query", ""))
        for c in live.zoho.calls()
        if c["method"] == "POST" and c["path"].endswith("/coql")
    ]


@pytest.mark.timeout(600)
def test_a_full_run_reads_zoho_by_range_and_an_unchanged_rerun_costs_a_handful_of_calls(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    live.zoho.generate(200, seed=3)  # with the seed: five batches of 50 and more
    live.zoho.clear_calls()

    first = run_all("all")

    selected = first["counts"]["selected"]
    assert selected > 200
    assert first["counts"]["created"] + first["counts"]["updated"] + first["counts"]["rejected"] == selected
    reads = [q for q in coql_queries(live) if " in (" in q]
    assert len(reads) <= 4, reads  # only the few Accounts a range could not vouch for
    for account in live.zoho.records("Accounts"):
        if account.get("Add_to_Xero") and account.get("Xero_Sync_Status") == "Synced":
            assert account.get("Xero_ID"), account["id"]

    live.zoho.clear_calls()
    again = run_all("all")

    assert again["counts"]["unchanged"] == first["counts"]["created"] + first["counts"]["updated"]
    assert again["counts"]["failed"] == 0
    queries = coql_queries(live)
    assert len(queries) <= 5, queries  # the plan's page, the Contacts' pages, the Accounts' page
    assert not [q for q in queries if " in (" in q]
    assert [c for c in live.zoho.calls() if c["method"] == "PUT"] == []


def _run(until: datetime, since: str | None = None) -> Run:
    return Run(
        run_id="range-test",
        kind=WindowKind.ALL,
        state=RunState.RUNNING,
        created_at=until.isoformat(timespec="seconds"),
        since=since,
        until=until.isoformat(timespec="seconds"),
    )


class _NoOtherBatches:
    def get_batch(self, run_id: str, number: int) -> RunBatch | None:
        return None


def test_an_account_changed_after_the_run_began_is_not_taken_from_the_range(live: LocalStack) -> None:
    from chalicelib.services.zoho_pages import ZohoPages
    from chalicelib.wiring import container

    ticked = [a["id"] for a in ZOHO_ACCOUNTS if a["Add_to_Xero"]][:4]
    pages = ZohoPages(container().zoho, _NoOtherBatches(), container().field_map)
    began = datetime.now(UTC) - timedelta(seconds=1)
    live.zoho.edit("Accounts", ticked[0], {"Phone": "+61 2 9000 1234"}, automation=False)

    found = pages.read(_run(began), RunBatch(0, ticked, BatchStatus.PENDING, "accounts"), Deadline(30))

    assert ticked[0] not in found  # the batch reads it itself, as it is now
    assert set(found) == set(ticked[1:])
    lookup = container().field_map().contact_account_field
    for record_id in ticked[1:]:
        account, contacts = found[record_id]
        assert account["id"] == record_id
        expected = sorted(c["id"] for c in live.zoho.records("Contacts") if _linked(c, lookup) == record_id)
        assert sorted(c["id"] for c in contacts) == expected


def test_runs_with_a_lower_bound_and_other_phases_read_per_batch(live: LocalStack) -> None:
    from chalicelib.services.zoho_pages import ZohoPages
    from chalicelib.wiring import container

    pages = ZohoPages(container().zoho, _NoOtherBatches(), container().field_map)
    since = _run(datetime.now(UTC), since="2020-01-01T00:00:00+00:00")
    batch = RunBatch(0, [account_id(1)], BatchStatus.PENDING, "accounts")
    assert pages.read(since, batch, Deadline(30)) == {}
    carry = RunBatch(0, [account_id(1)], BatchStatus.PENDING, "carry")
    assert pages.read(_run(datetime.now(UTC)), carry, Deadline(30)) == {}


def _linked(contact: dict[str, Any], lookup: str) -> str | None:
    value = contact.get(lookup)
    return str(value.get("id")) if isinstance(value, dict) else (str(value) if value else None)


class _Block:
    """Batches 0 and 1 of a block: the first and the last Account of the org (a run planned in
    another order, say), so the block's span is the whole org."""

    def __init__(self, first: str, last: str) -> None:
        self.last = last

    def get_batch(self, run_id: str, number: int) -> RunBatch | None:
        return RunBatch(1, [self.last], BatchStatus.PENDING, "accounts") if number == 1 else None


@pytest.mark.timeout(600)
def test_a_span_much_wider_than_its_block_is_left_to_the_batches(live: LocalStack) -> None:
    from chalicelib.services.zoho_pages import ZohoPages
    from chalicelib.wiring import container

    live.zoho.generate(4500, seed=5)
    ids = sorted((a["id"] for a in live.zoho.records("Accounts") if a.get("Add_to_Xero")), key=int)
    pages = ZohoPages(container().zoho, _Block(ids[0], ids[-1]), container().field_map)
    live.zoho.clear_calls()

    found = pages.read(
        _run(datetime.now(UTC)), RunBatch(0, [ids[0]], BatchStatus.PENDING, "accounts"), Deadline(60)
    )

    assert found == {}  # its batch reads it, with its Contacts, on its own
    assert len(coql_queries(live)) <= 7  # gave up after a bounded number of pages
