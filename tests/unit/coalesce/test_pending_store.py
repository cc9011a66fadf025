"""The pending-marker items: one atomic write per event, and a delete that says what it covered."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.store.pending import TTL_SECONDS, PendingRepository
from tests.unit.coalesce.conftest import TABLE

T0 = 1_700_000_000.0


def test_the_first_event_makes_the_marker_and_later_ones_see_it(pending: PendingRepository) -> None:
    assert pending.record_event("account-1", T0, "m1") is None

    second = pending.record_event("account-1", T0 + 1, "m2")
    pending.confirm_sent("account-1", "m1", T0 + 1.5)
    third = pending.record_event("account-1", T0 + 2.5, "m3")

    assert second is not None and (second.events, second.marker_id, second.enqueued_at) == (1, "m1", None)
    assert third is not None and (third.events, third.last_event_at, third.enqueued_at) == (
        2,
        T0 + 1,
        T0 + 1.5,
    )
    marker = pending.get("account-1")
    assert marker is not None
    assert (marker.events, marker.first_event_at, marker.last_event_at) == (3, T0, T0 + 2.5)
    assert marker.marker_id == "m1"
    assert pending.get("account-2") is None


def test_taking_the_marker_returns_its_events_and_the_next_event_starts_over(
    pending: PendingRepository,
) -> None:
    for second in range(4):
        pending.record_event("contact-7", T0 + second, "m1")

    taken = pending.take("contact-7")

    assert taken is not None and taken.events == 4
    assert pending.get("contact-7") is None
    assert pending.take("contact-7") is None
    assert pending.record_event("contact-7", T0 + 10, "m1") is None


def test_simultaneous_events_make_exactly_one_marker_maker(pending: PendingRepository) -> None:
    results: list[Any] = []
    start = threading.Barrier(16)

    def event() -> None:
        start.wait()
        results.append(pending.record_event("account-1", T0, "m1"))

    threads = [threading.Thread(target=event) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(1 for r in results if r is None) == 1
    marker = pending.get("account-1")
    assert marker is not None and marker.events == 16


def test_a_send_is_confirmed_only_on_the_marker_it_was_for(pending: PendingRepository) -> None:
    pending.record_event("account-1", T0, "m1")
    pending.take("account-1")  # a quick worker took it before its maker confirmed
    pending.record_event("account-1", T0 + 1, "m2")  # a newer event made a new one

    assert not pending.confirm_sent("account-1", "m1", T0 + 2)
    assert pending.get("account-1").enqueued_at is None  # type: ignore[union-attr]
    assert pending.confirm_sent("account-1", "m2", T0 + 3)
    assert pending.get("account-1").enqueued_at == T0 + 3  # type: ignore[union-attr]


def test_confirm_and_join_never_create_a_marker(pending: PendingRepository) -> None:
    assert not pending.confirm_sent("account-1", "m1", T0)
    assert not pending.join("account-1", 2, T0 - 900)

    assert pending.get("account-1") is None


def test_join_adds_events_only_to_a_marker_confirmed_recently(pending: PendingRepository) -> None:
    pending.record_event("account-1", T0, "m1")
    assert not pending.join("account-1", 1, T0 - 900)  # not confirmed yet: its send may fail
    pending.confirm_sent("account-1", "m1", T0)

    assert pending.join("account-1", 3, T0 - 900)
    assert not pending.join("account-1", 1, T0 + 1)  # confirmed before that: may be stuck

    marker = pending.get("account-1")
    assert marker is not None and marker.events == 4


def test_item_layout(ddb: Any, pending: PendingRepository) -> None:
    pending.record_event("account-5725767000000400001", T0 + 0.25, "m1")

    item = ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": "PENDING#account-5725767000000400001"}, "sk": {"S": "PENDING"}}
    )["Item"]
    assert item["entity"] == {"S": "PENDING"}
    assert item["group"] == {"S": "account-5725767000000400001"}
    assert item["ttl"] == {"N": str(int(T0) + TTL_SECONDS)}
    assert item["events"] == {"N": "1"}
