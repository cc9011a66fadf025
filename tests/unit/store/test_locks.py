from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from chalicelib.store.locks import LockRepository
from tests.unit.store.conftest import FakeClock


@pytest.fixture
def locks(ddb: Any, table: str, clock: FakeClock) -> LockRepository:
    return LockRepository(ddb, table, clock=clock, sleep=clock.sleep)


def test_lock_is_mutually_exclusive(locks: LockRepository) -> None:
    assert locks.acquire("account#1", "alice", 60)
    assert not locks.acquire("account#1", "bob", 60)
    assert locks.holder("account#1") == "alice"
    assert locks.acquire("account#2", "bob", 60)  # other names are independent


def test_owner_may_reacquire_and_renew(locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 60)
    clock.advance(50)

    assert locks.acquire("a", "alice", 60)  # now expires at +110

    clock.advance(30)
    assert not locks.acquire("a", "bob", 60)


def test_expired_lock_can_be_taken(locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 60)
    clock.advance(59.9)
    assert not locks.acquire("a", "bob", 60)

    clock.advance(0.1)

    assert locks.holder("a") is None
    assert locks.acquire("a", "bob", 60)
    assert locks.holder("a") == "bob"


def test_lock_item_layout(ddb: Any, table: str, locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 30.5)

    item = ddb.get_item(TableName=table, Key={"pk": {"S": "LOCK#a"}, "sk": {"S": "LOCK"}})["Item"]

    assert item["owner"] == {"S": "alice"}
    assert float(item["expires_at"]["N"]) == clock.now + 30.5
    assert item["ttl"] == {"N": str(int(clock.now) + 31)}


def test_release_by_wrong_owner_is_ignored(locks: LockRepository) -> None:
    locks.acquire("a", "alice", 60)

    locks.release("a", "bob")

    assert locks.holder("a") == "alice"
    assert not locks.acquire("a", "bob", 60)


def test_release_frees_the_lock_and_is_idempotent(locks: LockRepository) -> None:
    locks.acquire("a", "alice", 60)

    locks.release("a", "alice")
    locks.release("a", "alice")  # already gone: no error
    locks.release("never-held", "alice")

    assert locks.acquire("a", "bob", 60)


def test_late_release_does_not_free_the_next_holder(locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 60)
    clock.advance(61)
    locks.acquire("a", "bob", 60)

    locks.release("a", "alice")  # alice's work overran; bob holds it now

    assert locks.holder("a") == "bob"


def test_extend_keeps_the_lock_past_its_first_expiry(locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 60)
    clock.advance(50)

    assert locks.extend("a", "alice", 60)

    clock.advance(50)  # 100 s after acquiring, 50 s after extending
    assert not locks.acquire("a", "bob", 60)
    assert locks.holder("a") == "alice"


def test_extend_fails_for_others_and_after_takeover(locks: LockRepository, clock: FakeClock) -> None:
    assert not locks.extend("a", "alice", 60)  # nothing to extend
    locks.acquire("a", "alice", 60)
    assert not locks.extend("a", "bob", 60)

    clock.advance(61)
    locks.acquire("a", "bob", 60)

    assert not locks.extend("a", "alice", 60)
    assert locks.holder("a") == "bob"


def test_acquire_waiting_gives_up_after_wait_seconds(locks: LockRepository, clock: FakeClock) -> None:
    locks.acquire("a", "alice", 600)
    start = clock.now

    assert not locks.acquire_waiting("a", "bob", 60, wait_seconds=2.0, poll=0.1)

    assert clock.now - start == pytest.approx(2.0)
    assert len(clock.sleeps) >= 10
    assert all(0 < s <= 0.15 + 1e-9 for s in clock.sleeps)
    assert len(set(clock.sleeps)) > 1  # jittered


def test_acquire_waiting_gets_the_lock_once_released(ddb: Any, table: str, clock: FakeClock) -> None:
    def sleep_then_release(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 3:
            locks.release("a", "alice")

    locks = LockRepository(ddb, table, clock=clock, sleep=sleep_then_release)
    locks.acquire("a", "alice", 600)

    assert locks.acquire_waiting("a", "bob", 60, wait_seconds=5)

    assert len(clock.sleeps) == 3 and locks.holder("a") == "bob"


def test_acquire_waiting_without_wait_tries_once(locks: LockRepository, clock: FakeClock) -> None:
    assert locks.acquire_waiting("a", "alice", 60, wait_seconds=0)
    assert not locks.acquire_waiting("a", "bob", 60, wait_seconds=0)
    assert clock.sleeps == []


def test_hold_releases_on_exit_even_after_an_error(locks: LockRepository) -> None:
    with pytest.raises(RuntimeError), locks.hold("a", "alice", 60) as acquired:
        assert acquired
        assert locks.holder("a") == "alice"
        raise RuntimeError("sync failed")

    assert locks.holder("a") is None


def test_hold_yields_false_when_busy_and_leaves_the_holder_alone(locks: LockRepository) -> None:
    locks.acquire("a", "alice", 60)

    with locks.hold("a", "bob", 60, wait_seconds=1) as acquired:
        assert not acquired

    assert locks.holder("a") == "alice"


def test_threads_under_the_lock_never_lose_an_update(ddb: Any, table: str) -> None:
    locks = LockRepository(ddb, table)  # real clock and sleep
    counter = {"value": 0, "inside": 0, "max_inside": 0}
    failures: list[str] = []

    def increment(owner: str) -> None:
        with locks.hold("account#1", owner, ttl_seconds=10, wait_seconds=10, poll=0.005) as acquired:
            if not acquired:
                failures.append(owner)
                return
            counter["inside"] += 1
            counter["max_inside"] = max(counter["max_inside"], counter["inside"])
            value = counter["value"]
            time.sleep(0.002)  # widen the read-modify-write window
            counter["value"] = value + 1
            counter["inside"] -= 1

    threads = [threading.Thread(target=increment, args=(f"worker-{n}",)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert counter["value"] == 10
    assert counter["max_inside"] == 1
