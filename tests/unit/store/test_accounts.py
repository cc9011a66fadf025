from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest

from chalicelib.models.sync import AccountState, SyncStatus
from chalicelib.store.accounts import AccountStateRepository
from chalicelib.store.errors import StaleStateError, StoreThrottledError
from tests.unit.store.conftest import UnprocessedClient


@pytest.fixture
def repo(ddb: Any, table: str) -> AccountStateRepository:
    return AccountStateRepository(ddb, table)


def linked(account_id: str, contact_id: str, tenant_id: str = "tenant-1", **extra: Any) -> AccountState:
    return AccountState(account_id=account_id, xero_contact_id=contact_id, tenant_id=tenant_id, **extra)


def test_get_missing_account_is_none(repo: AccountStateRepository) -> None:
    assert repo.get("404") is None


def test_save_new_state_round_trips_with_version_one(repo: AccountStateRepository) -> None:
    state = linked(
        "1001",
        "c-1",
        status=SyncStatus.SYNCED,
        content_hash="abc",
        last_synced_at="2026-01-02T03:04:05Z",
        account_name="Acme Ltd",
    )

    saved = repo.save(state)

    assert saved == dataclasses.replace(state, version=1)
    assert state.version == 0  # the caller's object is not mutated
    loaded = repo.get("1001")
    assert loaded == saved
    assert loaded is not None and loaded.status is SyncStatus.SYNCED


def test_none_fields_are_not_stored(ddb: Any, table: str, repo: AccountStateRepository) -> None:
    repo.save(AccountState(account_id="1001"))

    item = ddb.get_item(TableName=table, Key={"pk": {"S": "ACCOUNT#1001"}, "sk": {"S": "STATE"}})["Item"]

    assert set(item) == {"pk", "sk", "entity", "account_id", "version"}


def test_each_save_increments_the_version(repo: AccountStateRepository) -> None:
    first = repo.save(AccountState(account_id="1001"))
    second = repo.save(dataclasses.replace(first, status=SyncStatus.FAILED, last_error="boom"))

    assert (first.version, second.version) == (1, 2)
    assert repo.get("1001") == second


def test_stale_save_is_rejected_and_changes_nothing(repo: AccountStateRepository) -> None:
    current = repo.save(repo.save(AccountState(account_id="1001")))  # version 2
    stale = dataclasses.replace(current, version=1, last_error="stale write")

    with pytest.raises(StaleStateError) as caught:
        repo.save(stale)

    assert caught.value.account_id == "1001" and caught.value.expected_version == 1
    assert repo.get("1001") == current


def test_new_state_cannot_overwrite_an_existing_one(repo: AccountStateRepository) -> None:
    repo.save(linked("1001", "c-1"))

    with pytest.raises(StaleStateError):
        repo.save(AccountState(account_id="1001"))  # version 0 = "I believe it is new"

    assert repo.get("1001") == linked("1001", "c-1", version=1)


def test_two_writers_from_the_same_version_one_wins(repo: AccountStateRepository) -> None:
    base = repo.save(AccountState(account_id="1001"))
    alice = dataclasses.replace(base, xero_contact_id="c-alice", tenant_id="t")
    bob = dataclasses.replace(base, xero_contact_id="c-bob", tenant_id="t")

    repo.save(alice)
    with pytest.raises(StaleStateError):
        repo.save(bob)

    stored = repo.get("1001")
    assert stored is not None and stored.xero_contact_id == "c-alice" and stored.version == 2


def test_concurrent_writers_from_the_same_version_exactly_one_wins(repo: AccountStateRepository) -> None:
    base = repo.save(AccountState(account_id="1001"))
    outcomes: list[str] = []
    start = threading.Barrier(10)

    def write(n: int) -> None:
        start.wait()
        try:
            repo.save(dataclasses.replace(base, content_hash=f"h{n}"))
            outcomes.append(f"h{n}")
        except StaleStateError:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [o for o in outcomes if o != "stale"]
    assert len(winners) == 1
    stored = repo.get("1001")
    assert stored is not None and stored.content_hash == winners[0] and stored.version == 2


def test_find_account_by_xero_contact(repo: AccountStateRepository) -> None:
    repo.save(linked("1001", "c-1"))
    repo.save(linked("1002", "c-2"))
    repo.save(AccountState(account_id="1003", xero_contact_id="c-3"))  # no tenant: not indexed

    assert repo.find_account_by_xero_contact("tenant-1", "c-1") == "1001"
    assert repo.find_account_by_xero_contact("tenant-1", "c-2") == "1002"
    assert repo.find_account_by_xero_contact("tenant-2", "c-1") is None
    assert repo.find_account_by_xero_contact("tenant-1", "c-3") is None


def test_unlinking_removes_the_index_entry(repo: AccountStateRepository) -> None:
    saved = repo.save(linked("1001", "c-1"))

    repo.save(dataclasses.replace(saved, xero_contact_id=None))

    assert repo.find_account_by_xero_contact("tenant-1", "c-1") is None


def test_get_many_reads_more_than_one_batch(ddb: Any, table: str, repo: AccountStateRepository) -> None:
    for n in range(250):
        repo.save(AccountState(account_id=f"a{n}", content_hash=f"h{n}"))
    spy = UnprocessedClient(ddb, failures=0)
    wanted = [f"a{n}" for n in range(250)] + ["missing", "a0"]  # a duplicate and an unknown id

    found = AccountStateRepository(spy, table).get_many(wanted)

    assert set(found) == {f"a{n}" for n in range(250)}
    assert found["a249"].content_hash == "h249" and found["a249"].version == 1
    assert spy.batch_sizes == [100, 100, 51]


def test_get_many_retries_unprocessed_keys(ddb: Any, table: str, repo: AccountStateRepository) -> None:
    for n in range(30):
        repo.save(AccountState(account_id=f"a{n}"))
    flaky = UnprocessedClient(ddb, failures=3)
    sleeps: list[float] = []

    found = AccountStateRepository(flaky, table, sleep=sleeps.append).get_many([f"a{n}" for n in range(30)])

    assert len(found) == 30
    assert flaky.batch_sizes == [30, 15, 8, 4]
    assert len(sleeps) == 3


def test_get_many_gives_up_when_always_throttled(ddb: Any, table: str) -> None:
    throttled = UnprocessedClient(ddb, failures=None)

    with pytest.raises(StoreThrottledError):
        AccountStateRepository(throttled, table, sleep=lambda _: None).get_many(["a", "b", "c", "d"])


def test_get_many_of_nothing(repo: AccountStateRepository) -> None:
    assert repo.get_many([]) == {}


def test_save_many_reports_conflicts_per_item(repo: AccountStateRepository) -> None:
    existing = {n: repo.save(AccountState(account_id=f"a{n}")) for n in range(0, 150, 10)}
    batch = []
    for n in range(150):
        if n in existing and n % 20 == 0:
            batch.append(dataclasses.replace(existing[n], version=0))  # stale: claims to be new
        elif n in existing:
            batch.append(dataclasses.replace(existing[n], content_hash="new"))
        else:
            batch.append(AccountState(account_id=f"a{n}", content_hash="new"))

    results = repo.save_many(batch)

    assert [r.account_id for r in results] == [f"a{n}" for n in range(150)]
    conflicts = {r.account_id for r in results if not r.ok}
    assert conflicts == {f"a{n}" for n in range(0, 150, 20)}
    for r in results:
        if r.ok:
            assert r.state is not None and repo.get(r.account_id) == r.state
    stored = repo.get_many([f"a{n}" for n in range(150)])
    assert sum(s.content_hash == "new" for s in stored.values()) == 150 - len(conflicts)
    assert stored["a10"].version == 2 and stored["a20"].version == 1


def test_save_many_of_nothing(repo: AccountStateRepository) -> None:
    assert repo.save_many([]) == []
