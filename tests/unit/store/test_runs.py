"""The run store's accounting: what a batch writes, and that it counts exactly once.

An unchanged Account of a batch whose Accounts are listed nowhere else in the run is kept on
the batch item, not as an item of its own (issue 11: 1,000 such items per unchanged rerun,
kept 400 days). The counts, the problems list and the every-Account listing must not tell
the difference, and a batch delivered twice must count once either way.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.models.calls import UpstreamCalls
from chalicelib.models.runs import AccountResult, Run, RunAccount, RunState, WindowKind
from chalicelib.store.errors import InvalidCursorError
from chalicelib.store.runs import PlannedBatch, PlanStep, RunRepository
from tests.fakes import FakeClock

RUN_ID = "20260101-000000-abcdef01"
SIZE = 50


class WriteCounter:
    """Wraps the client and counts what DynamoDB bills as writes: each item of a transaction,
    each Put/Update/Delete, each request of a batch write."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.items = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.items += len(kwargs["TransactItems"])
        return self._client.transact_write_items(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self.items += 1
        return self._client.put_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.items += 1
        return self._client.update_item(**kwargs)


@pytest.fixture
def writes(ddb: Any) -> WriteCounter:
    return WriteCounter(ddb)


@pytest.fixture
def runs(writes: WriteCounter, table: str, clock: FakeClock) -> RunRepository:
    repository = RunRepository(writes, table, clock=clock)
    repository.create(
        Run(
            run_id=RUN_ID,
            kind=WindowKind.ALL,
            state=RunState.PLANNING,
            created_at="2026-01-01T00:00:00+00:00",
        )
    )
    return repository


def plan(runs: RunRepository, batches: list[list[str]], phase: str = "accounts") -> None:
    runs.commit_step(
        RUN_ID,
        PlanStep(
            step=0,
            next_cursor=None,
            batches=[PlannedBatch(n, ids, phase=phase) for n, ids in enumerate(batches)],
            planned_accounts=sum(len(ids) for ids in batches),
            done=True,
        ),
    )


def outcome(account_id: str, result: AccountResult = AccountResult.UNCHANGED) -> RunAccount:
    message = "Nothing changed since the last sync." if result is AccountResult.UNCHANGED else "Fix it."
    return RunAccount(
        RUN_ID,
        account_id,
        result,
        message,
        account_name=f"Name {account_id}",
        xero_contact_id=f"c-{account_id}",
    )


def ids(first: int, count: int) -> list[str]:
    return [f"{n:06d}" for n in range(first, first + count)]


def items_of_run(ddb: Any, table: str) -> list[dict[str, Any]]:
    return ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RUN#{RUN_ID}"}},
    )["Items"]


def every_account(runs: RunRepository, limit: int) -> list[RunAccount]:
    found, cursor = [], None
    while True:
        page, cursor = runs.accounts(RUN_ID, problems_only=False, limit=limit, cursor=cursor)
        found += page
        if cursor is None:
            return found


def test_an_unchanged_batch_writes_its_batch_and_run_not_an_item_per_account(
    runs: RunRepository, writes: WriteCounter, ddb: Any, table: str
) -> None:
    plan(runs, [ids(0, SIZE)])
    before = writes.items

    runs.account_batch(
        RUN_ID, 0, [outcome(a) for a in ids(0, SIZE)], calls=UpstreamCalls(0, 2), compact_unchanged=True
    )

    assert writes.items - before == 2  # the batch ("done" + its unchanged Accounts) and the run's counters
    kinds = sorted(i["entity"]["S"] for i in items_of_run(ddb, table))
    assert kinds == ["RUN", "RUN_BATCH"]
    run = runs.get(RUN_ID)
    assert run is not None
    assert run.counts["selected"] == run.counts["unchanged"] == SIZE
    assert run.batches_done == 1


def test_without_compact_unchanged_each_account_is_an_item_as_before(
    runs: RunRepository, writes: WriteCounter
) -> None:
    plan(runs, [ids(0, SIZE)], phase="contacts")
    before = writes.items

    runs.account_batch(RUN_ID, 0, [outcome(a) for a in ids(0, SIZE)], calls=UpstreamCalls(0, 2))

    assert writes.items - before == 2 + SIZE


def test_problems_and_changes_stay_items_of_their_own_next_to_the_unchanged_ones(
    runs: RunRepository, ddb: Any, table: str
) -> None:
    plan(runs, [ids(0, 4)])
    results = [AccountResult.UNCHANGED, AccountResult.REJECTED, AccountResult.UPDATED, AccountResult.FAILED]

    runs.account_batch(
        RUN_ID,
        0,
        [outcome(a, r) for a, r in zip(ids(0, 4), results, strict=True)],
        calls=UpstreamCalls(1, 2),
        compact_unchanged=True,
    )

    kinds = sorted(i["entity"]["S"] for i in items_of_run(ddb, table))
    assert kinds == ["RUN", "RUN_ACCOUNT", "RUN_ACCOUNT", "RUN_ACCOUNT", "RUN_BATCH"]
    problems, _ = runs.accounts(RUN_ID, problems_only=True)
    assert sorted((p.account_id, p.result) for p in problems) == [
        ("000001", AccountResult.REJECTED),
        ("000003", AccountResult.FAILED),
    ]
    run = runs.get(RUN_ID)
    assert run is not None
    assert run.counts == {
        "selected": 4,
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "rejected": 1,
        "failed": 1,
    }


@pytest.mark.parametrize("compact", [True, False])
def test_a_batch_delivered_twice_counts_once(runs: RunRepository, compact: bool) -> None:
    plan(runs, [ids(0, 3)])
    outcomes = [outcome("000000"), outcome("000001", AccountResult.CREATED), outcome("000002")]

    first = runs.account_batch(RUN_ID, 0, outcomes, calls=UpstreamCalls(1, 2), compact_unchanged=compact)
    again = runs.account_batch(RUN_ID, 0, outcomes, calls=UpstreamCalls(1, 2), compact_unchanged=compact)

    assert (first, again) == (True, False)
    run = runs.get(RUN_ID)
    assert run is not None
    assert run.counts["selected"] == 3 and run.counts["unchanged"] == 2 and run.counts["created"] == 1
    assert run.batches_done == 1
    assert (run.xero_calls, run.zoho_calls) == (1, 2)
    assert sorted(a.account_id for a in every_account(runs, 50)) == ["000000", "000001", "000002"]


def test_an_account_planned_in_two_item_batches_keeps_its_first_outcome_and_counts_once(
    runs: RunRepository,
) -> None:
    plan(runs, [["000000", "000001"], ["000001", "000002"]], phase="carry")

    runs.account_batch(
        RUN_ID, 0, [outcome("000000"), outcome("000001", AccountResult.UPDATED)], calls=UpstreamCalls(0, 0)
    )
    runs.account_batch(
        RUN_ID, 1, [outcome("000001", AccountResult.UPDATED), outcome("000002")], calls=UpstreamCalls(0, 0)
    )

    run = runs.get(RUN_ID)
    assert run is not None
    assert run.counts["selected"] == 3 and run.counts["updated"] == 1 and run.counts["unchanged"] == 2
    assert run.batches_done == 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=5),
    problems=st.sets(st.integers(min_value=0, max_value=34)),
    limit=st.integers(min_value=1, max_value=12),
)
def test_every_account_listing_pages_through_items_and_batches_once_each(
    ddb: Any, table: str, sizes: list[int], problems: set[int], limit: int
) -> None:
    """Whatever the mix of items and batch-kept Accounts and the page size: each Account once,
    with what it showed (name, contact, message), and no page short of `limit` but the last."""
    runs = RunRepository(ddb, table, clock=FakeClock())
    run_id = f"20260101-000000-{uuid.uuid4().hex[:8]}"  # the examples share a table, not a run
    runs.create(
        Run(
            run_id=run_id,
            kind=WindowKind.ALL,
            state=RunState.PLANNING,
            created_at="2026-01-01T00:00:00+00:00",
        ),
        replacing=runs.active_run_id(),  # the previous example's run left the slot: take it over
    )
    batches, first = [], 0
    for size in sizes:
        batches.append(ids(first, size))
        first += size
    runs.commit_step(
        run_id,
        PlanStep(
            step=0, next_cursor=None, batches=[PlannedBatch(n, b, "accounts") for n, b in enumerate(batches)]
        ),
    )
    expected: dict[str, RunAccount] = {}
    for number, batch in enumerate(batches):
        outcomes = []
        for account_id in batch:
            result = AccountResult.REJECTED if int(account_id) in problems else AccountResult.UNCHANGED
            outcomes.append(
                RunAccount(run_id, account_id, result, f"msg {account_id}", f"N {account_id}", "c", "t")
            )
        expected.update({o.account_id: o for o in outcomes})
        runs.account_batch(run_id, number, outcomes, calls=UpstreamCalls(0, 0), compact_unchanged=True)

    pages, cursor = [], None
    while True:
        page, cursor = runs.accounts(run_id, problems_only=False, limit=limit, cursor=cursor)
        pages.append(page)
        if cursor is None:
            break

    listed = [a for page in pages for a in page]
    assert sorted(a.account_id for a in listed) == sorted(expected)
    assert {a.account_id: a for a in listed} == expected
    assert all(len(page) >= limit for page in pages[:-1])
    assert all(len(page) <= limit + max(sizes) for page in pages)


def test_a_cursor_into_another_part_of_the_run_is_refused(runs: RunRepository) -> None:
    import base64
    import json

    crafted = {"pk": {"S": f"RUN#{RUN_ID}"}, "sk": {"S": "XIDX#00001"}}
    cursor = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode()

    with pytest.raises(InvalidCursorError):
        runs.accounts(RUN_ID, problems_only=False, cursor=cursor)
