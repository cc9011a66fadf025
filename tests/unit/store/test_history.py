from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.store.accounts import AccountStateRepository
from chalicelib.store.errors import InvalidCursorError
from chalicelib.store.history import HistoryRepository, history_sk
from tests.unit.store.conftest import FakeClock, UnprocessedClient

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(account_id: str = "1001", minutes: int = 0, **extra: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "account_id": account_id,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "trigger": Trigger.BUTTON,
        "status": SyncStatus.SYNCED,
        "action": SyncAction.UPDATED,
        "message": f"attempt at minute {minutes}",
    }
    return HistoryEntry(**(values | extra))


@pytest.fixture
def repo(ddb: Any, table: str, clock: FakeClock) -> HistoryRepository:
    return HistoryRepository(ddb, table, ttl_days=30, clock=clock)


def test_entries_round_trip(repo: HistoryRepository) -> None:
    original = entry(
        trigger=Trigger.RUN,
        status=SyncStatus.REJECTED,
        action=SyncAction.NONE,
        xero_contact_id="c-1",
        run_id="run-7",
        detail="Name is empty",
    )
    repo.add(original)

    page, cursor = repo.list("1001")

    assert page == [original] and cursor is None
    assert page[0].trigger is Trigger.RUN and page[0].status is SyncStatus.REJECTED


def test_list_is_newest_first_whatever_the_timestamp_spelling(repo: HistoryRepository) -> None:
    # As plain text these would sort 0, 2, 1, 3, 4 (newest first: 4, 3, 1, 2, 0) - wrong.
    repo.add(entry(message="4", at="2026-03-01T13:05:00+01:00"))  # 12:05 UTC
    repo.add(entry(message="3", at="2026-03-01T12:03:00"))  # naive: UTC by convention
    repo.add(entry(message="2", at="2026-03-01T12:01:00.500000+00:00"))
    repo.add(entry(message="1", at="2026-03-01T12:01:00Z"))
    repo.add(entry(message="0", at="2026-03-01T13:00:00+02:00"))  # 11:00 UTC

    page, _ = repo.list("1001")

    assert [e.message for e in page] == ["4", "3", "2", "1", "0"]
    assert page[0].at == "2026-03-01T13:05:00+01:00"  # stored as given


def test_sort_key_orders_by_instant_and_is_unique() -> None:
    early, late = history_sk("2026-03-01T12:00:00.000001Z"), history_sk("2026-03-01T12:00:00.1Z")
    assert early.startswith("HIST#2026-03-01T12:00:00.000001Z#")
    assert early < late
    assert history_sk("2026-03-01T13:00:00+02:00") < history_sk("2026-03-01T12:00:00Z")
    assert history_sk("2026-03-01T12:00:00Z") < history_sk("2026-03-01T12:00:00.5+00:00")
    assert history_sk("2026-03-01T12:00:00Z") != history_sk("2026-03-01T12:00:00Z")


def test_paging_with_cursor_covers_everything_once(repo: HistoryRepository) -> None:
    repo.add_many(entry(minutes=m) for m in range(45))

    pages: list[list[HistoryEntry]] = []
    cursor: str | None = None
    while True:
        page, cursor = repo.list("1001", limit=20, cursor=cursor)
        pages.append(page)
        if cursor is None:
            break

    assert [len(p) for p in pages] == [20, 20, 5]
    minutes = [int(e.message.rsplit(" ", 1)[1]) for p in pages for e in p]
    assert minutes == list(range(44, -1, -1))


def test_last_full_page_has_no_cursor(repo: HistoryRepository) -> None:
    repo.add_many(entry(minutes=m) for m in range(40))

    _, cursor = repo.list("1001", limit=20)
    page, last = repo.list("1001", limit=20, cursor=cursor)

    assert len(page) == 20 and last is None


def test_history_is_per_account_and_skips_state(ddb: Any, table: str, repo: HistoryRepository) -> None:
    AccountStateRepository(ddb, table).save(AccountState(account_id="1001"))
    repo.add(entry("1001"))
    repo.add(entry("1002"))

    page, _ = repo.list("1001")

    assert [e.account_id for e in page] == ["1001"]
    assert repo.list("9999") == ([], None)


def test_cursor_is_opaque_base64_of_the_key(repo: HistoryRepository) -> None:
    repo.add_many(entry(minutes=m) for m in range(3))

    _, cursor = repo.list("1001", limit=1)

    assert cursor is not None
    decoded = json.loads(base64.urlsafe_b64decode(cursor))
    assert set(decoded) == {"pk", "sk"} and decoded["pk"] == {"S": "ACCOUNT#1001"}


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"pk": "ACCOUNT#1001", "sk": "STATE"}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_malformed_cursor_is_refused(repo: HistoryRepository, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        repo.list("1001", cursor=cursor)


def test_cursor_from_another_account_is_refused(repo: HistoryRepository) -> None:
    repo.add_many(entry("1002", minutes=m) for m in range(3))
    _, cursor = repo.list("1002", limit=1)

    with pytest.raises(InvalidCursorError):
        repo.list("1001", cursor=cursor)


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_is_bounded(repo: HistoryRepository, limit: int) -> None:
    with pytest.raises(ValueError):
        repo.list("1001", limit=limit)


def test_entries_carry_ttl_from_the_injected_clock(ddb: Any, table: str, repo: HistoryRepository) -> None:
    repo.add(entry())

    (item,) = ddb.scan(TableName=table)["Items"]

    assert item["ttl"] == {"N": str(1_700_000_000 + 30 * 86_400)}


def test_oversized_text_is_clipped(repo: HistoryRepository) -> None:
    repo.add(entry(message="m" * 10_000, detail="d" * 100_000))

    (stored,), _ = repo.list("1001")

    assert len(stored.message) == 2_000 and stored.message.endswith("…")
    assert stored.detail is not None and len(stored.detail) == 8_000


def test_add_many_writes_in_batches_of_25(ddb: Any, table: str) -> None:
    spy = UnprocessedClient(ddb, failures=0)

    HistoryRepository(spy, table).add_many(entry(minutes=m) for m in range(60))

    assert spy.batch_sizes == [25, 25, 10]
    assert len(HistoryRepository(ddb, table).list("1001", limit=100)[0]) == 60


def test_add_many_retries_unprocessed_items(ddb: Any, table: str) -> None:
    flaky = UnprocessedClient(ddb, failures=2)
    sleeps: list[float] = []

    HistoryRepository(flaky, table, sleep=sleeps.append).add_many(entry(minutes=m) for m in range(10))

    assert flaky.batch_sizes == [10, 5, 3]
    assert len(sleeps) == 2
    assert len(HistoryRepository(ddb, table).list("1001")[0]) == 10
