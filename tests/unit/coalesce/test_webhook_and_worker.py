"""Workflow events through the webhook, the queue and the worker: bursts become one sync, and no
event is ever left without a sync that read Zoho after it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.models.webhook import SyncMessage, WebhookRequest
from chalicelib.services.coalescing import MAX_WAIT_PERIODS, STALE_SECONDS, Coalescing
from chalicelib.services.webhook import handle_webhook
from chalicelib.services.worker import QueuedMessage, process_messages
from chalicelib.store.pending import PendingRepository
from tests.unit.coalesce.conftest import Clock, FakeSyncer, Queue


def save(
    coalescing: Coalescing,
    queue: Queue,
    syncer: FakeSyncer,
    *,
    account: str | None = None,
    contact: str | None = None,
) -> int:
    """Zoho's workflow webhook after a save; returns the HTTP status."""
    request = WebhookRequest(account_id=account, contact_id=contact, source="workflow")
    return handle_webhook(request, syncer, queue, 25.0, coalescing).status_code  # type: ignore[arg-type]


def work(
    messages: list[QueuedMessage], syncer: FakeSyncer, coalescing: Coalescing, seconds: float = 60
) -> list[str]:
    return process_messages(
        messages,
        syncer,  # type: ignore[arg-type]
        max_receives=5,
        deadline=lambda: Deadline(seconds),
        coalescing=coalescing,
    )


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[Records]:
    """Our log records, straight from the chalicelib logger (app.py may stop it propagating)."""
    handler, library = Records(), logging.getLogger("chalicelib")
    level = library.level
    library.addHandler(handler)
    library.setLevel(logging.INFO)
    yield handler
    library.removeHandler(handler)
    library.setLevel(level)


def covered(logs: Records) -> list[int | None]:
    """`coalesced_events` of each finished sync or contact hand-over, in order."""
    return [r.coalesced_events for r in logs.records if hasattr(r, "coalesced_events")]  # type: ignore[attr-defined]


def test_a_burst_of_saves_is_one_message_and_one_sync_after_it_went_quiet(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock, logs: Records
) -> None:
    for _ in range(5):
        assert save(coalescing, queue, syncer, account="1") == 202
        clock.advance(0.4)
    last_save = clock() - 0.4

    assert queue.waiting() == 1
    assert work(queue.receive(), syncer, coalescing) == []

    assert [account for account, _ in syncer.syncs] == ["1"]
    assert syncer.syncs[0][1] >= last_save + 3.0  # waited for the burst to be quiet
    assert covered(logs) == [5]


def test_saves_while_the_worker_waits_join_the_same_sync(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock, logs: Records
) -> None:
    save(coalescing, queue, syncer, account="1")
    clock.during_sleep = [lambda: save(coalescing, queue, syncer, account="1")] * 2

    work(queue.receive(), syncer, coalescing)

    assert len(syncer.syncs) == 1
    assert covered(logs) == [3]
    assert queue.waiting() == 0


def test_a_save_after_the_marker_was_taken_gets_a_sync_of_its_own(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock, logs: Records
) -> None:
    save(coalescing, queue, syncer, account="1")
    saved_during_sync: list[float] = []

    def save_now() -> None:
        saved_during_sync.append(clock())
        save(coalescing, queue, syncer, account="1")

    syncer.during_sync = [save_now]
    work(queue.receive(), syncer, coalescing)
    assert queue.waiting() == 1  # the save during the sync was not swallowed

    clock.advance(1)
    work(queue.receive(), syncer, coalescing)

    assert len(syncer.syncs) == 2
    assert syncer.syncs[1][1] > saved_during_sync[0]  # the second sync read Zoho after that save
    assert covered(logs) == [1, 1]


def test_a_redelivery_after_a_fault_syncs_again_without_waiting(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock
) -> None:
    save(coalescing, queue, syncer, account="1")
    [message] = queue.receive()
    syncer.fail_next = [RetriableError("Xero is temporarily unavailable.")]

    assert work([message], syncer, coalescing) == [message.message_id]
    sleeps_before = len(clock.sleeps)
    retry = QueuedMessage(message.message_id, message.body, receive_count=2)
    assert work([retry], syncer, coalescing) == []

    assert len(syncer.syncs) == 2
    assert len(clock.sleeps) == sleeps_before


def test_saves_after_a_failed_attempt_are_synced_by_the_retry_or_their_own_message(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock
) -> None:
    save(coalescing, queue, syncer, account="1")
    [first] = queue.receive()
    syncer.fail_next = [RetriableError("Xero is temporarily unavailable.")]
    work([first], syncer, coalescing)

    clock.advance(10)
    save(coalescing, queue, syncer, account="1")  # marker was taken: a new message
    newer = queue.receive()
    retry = QueuedMessage(first.message_id, first.body, receive_count=2)
    work([retry, *newer], syncer, coalescing)

    assert len(newer) == 1
    assert len(syncer.syncs) == 3
    assert syncer.syncs[-1][1] > clock() - 10  # synced after the later save


def test_button_clicks_never_coalesce(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, pending: PendingRepository
) -> None:
    save(coalescing, queue, syncer, account="1")
    answer = handle_webhook(
        WebhookRequest(account_id="1", source="button"),
        syncer,  # type: ignore[arg-type]
        queue,
        25.0,
        coalescing,
    )

    assert answer.status_code == 200
    assert len(syncer.syncs) == 1  # synced at once
    button_retry = QueuedMessage("b", SyncMessage(account_id="1", trigger="button").model_dump_json())
    work([button_retry], syncer, coalescing)
    assert len(syncer.syncs) == 2
    assert pending.get("account-1") is not None  # still waiting for the workflow message


def test_a_failed_send_is_not_relied_on_the_next_save_sends(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, pending: PendingRepository
) -> None:
    class DownQueue:
        def enqueue(self, message: SyncMessage) -> str:
            raise ConnectionError("SQS unreachable")

    with pytest.raises(ConnectionError):  # the webhook answers 500: Zoho logs a failed delivery
        save(coalescing, DownQueue(), syncer, account="1")  # type: ignore[arg-type]

    assert save(coalescing, queue, syncer, account="1") == 202
    assert save(coalescing, queue, syncer, account="1") == 202
    assert queue.waiting() == 1
    marker = pending.get("account-1")
    assert marker is not None and marker.events == 3


def test_saves_during_a_crashed_or_slow_send_send_their_own_message(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock, pending: PendingRepository
) -> None:
    pending.record_event("account-1", clock(), "crashed")  # a webhook died before its send

    save(coalescing, queue, syncer, account="1")
    save(coalescing, queue, syncer, account="1")

    assert queue.waiting() == 1  # the first save after it sent; the second joined that message
    work(queue.receive(), syncer, coalescing)
    assert len(syncer.syncs) == 1
    assert pending.get("account-1") is None


def test_a_worker_faster_than_the_send_confirmation_leaves_nothing_to_join(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, pending: PendingRepository
) -> None:
    class FastWorker:
        """The message is taken and synced before the webhook confirms its send."""

        def enqueue(self, message: SyncMessage) -> str:
            message_id = queue.enqueue(message)
            work(queue.receive(), syncer, coalescing)
            return message_id

    save(coalescing, FastWorker(), syncer, account="1")  # type: ignore[arg-type]
    assert pending.get("account-1") is None

    save(coalescing, queue, syncer, account="1")
    assert queue.waiting() == 1


def test_a_marker_sent_long_ago_is_not_joined(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock, pending: PendingRepository
) -> None:
    save(coalescing, queue, syncer, account="1")
    queue.receive()  # that message is stuck somewhere (say, behind a failing one of its group)
    clock.advance(STALE_SECONDS - 1)
    save(coalescing, queue, syncer, account="1")
    assert queue.waiting() == 0

    clock.advance(2)
    save(coalescing, queue, syncer, account="1")
    save(coalescing, queue, syncer, account="1")

    assert queue.waiting() == 1
    work(queue.receive(), syncer, coalescing)
    assert len(syncer.syncs) == 1


def test_contact_saves_coalesce_and_resync_their_account_once(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, logs: Records
) -> None:
    for _ in range(3):
        save(coalescing, queue, syncer, contact="9001")

    work(queue.receive(), syncer, coalescing)

    assert [account for account, _ in syncer.syncs] == ["1"]
    assert covered(logs) == [3]


def test_a_contact_save_joins_its_accounts_waiting_sync(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, logs: Records
) -> None:
    save(coalescing, queue, syncer, account="1")
    save(coalescing, queue, syncer, contact="9001")
    save(coalescing, queue, syncer, account="1")
    save(coalescing, queue, syncer, contact="9002")
    messages = queue.receive()
    assert len(messages) == 3

    work(messages, syncer, coalescing)

    assert [account for account, _ in syncer.syncs] == ["1"]
    assert covered(logs)[-1] == 4  # both Account saves and both contact saves


def test_coalescing_off_keeps_one_message_per_save(
    pending: PendingRepository, queue: Queue, syncer: FakeSyncer, clock: Clock
) -> None:
    off = Coalescing(pending, quiet_seconds=0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        save(off, queue, syncer, account="1")

    assert queue.waiting() == 3
    work(queue.receive(), syncer, off)
    assert len(syncer.syncs) == 3
    assert clock.sleeps == []
    assert pending.get("account-1") is None


def test_saves_that_never_stop_are_still_synced(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock
) -> None:
    save(coalescing, queue, syncer, account="1")
    clock.during_sleep = [lambda: save(coalescing, queue, syncer, account="1")] * 100

    work(queue.receive(), syncer, coalescing)

    assert len(syncer.syncs) == 1
    assert sum(clock.sleeps) <= MAX_WAIT_PERIODS * coalescing.quiet_seconds


def test_no_waiting_when_the_lambda_is_about_to_run_out_of_time(
    coalescing: Coalescing, queue: Queue, syncer: FakeSyncer, clock: Clock
) -> None:
    save(coalescing, queue, syncer, account="1")

    work(queue.receive(), syncer, coalescing, seconds=15)

    assert len(syncer.syncs) == 1
    assert clock.sleeps == []
