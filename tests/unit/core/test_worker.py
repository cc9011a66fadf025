"""Which queued messages come back (retry) and which are done, per message and per Account."""

from __future__ import annotations

import json

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RejectedError, RetriableError
from chalicelib.models.sync import SyncAction, SyncOutcome, SyncStatus
from chalicelib.services.sync_account import SyncRequest
from chalicelib.services.worker import QueuedMessage, process_messages


class FakeSyncer:
    """Stands in for AccountSyncer: scripted outcomes per Account."""

    def __init__(self, script: dict[str, object]) -> None:
        self.script = script
        self.requests: list[SyncRequest] = []

    def account_for_contact(self, contact_id: str, deadline: Deadline) -> str:
        result = self.script.get(f"contact:{contact_id}")
        if isinstance(result, Exception):
            raise result
        return str(result)

    def sync(self, request: SyncRequest) -> SyncOutcome:
        self.requests.append(request)
        result = self.script.get(request.account_id, "ok")
        if isinstance(result, Exception):
            raise result
        return SyncOutcome(
            request.account_id, SyncStatus.SYNCED, SyncAction.UPDATED, "Synced to Xero (updated)."
        )


def msg(message_id: str, receive_count: int = 1, **body: str) -> QueuedMessage:
    return QueuedMessage(message_id, json.dumps(body), receive_count)


def run(syncer: FakeSyncer, messages: list[QueuedMessage]) -> list[str]:
    return process_messages(messages, syncer, max_receives=5, deadline=lambda: Deadline(30))  # type: ignore[arg-type]


def test_passing_fault_comes_back_and_blocks_later_messages_of_that_account_only() -> None:
    syncer = FakeSyncer({"1": RetriableError("Xero is down")})
    failed = run(syncer, [msg("a", account_id="1"), msg("b", account_id="2"), msg("c", account_id="1")])
    assert failed == ["a", "c"]
    assert [r.account_id for r in syncer.requests] == ["1", "2"]


def test_a_crash_is_retried_without_failing_the_batch() -> None:
    syncer = FakeSyncer({"1": KeyError("bug")})
    assert run(syncer, [msg("a", account_id="1"), msg("b", account_id="2")]) == ["a"]


def test_unreadable_messages_are_dropped_not_retried_forever() -> None:
    syncer = FakeSyncer({})
    assert run(syncer, [QueuedMessage("x", "{not json"), msg("y", trigger="workflow")]) == []
    assert syncer.requests == []


def test_contact_events_resolve_their_account_and_skip_when_they_cannot() -> None:
    syncer = FakeSyncer(
        {
            "contact:9": "1",
            "contact:8": RejectedError("not linked"),
            "contact:7": FatalError("Zoho disconnected"),
        }
    )
    failed = run(syncer, [msg("a", contact_id="9"), msg("b", contact_id="8"), msg("c", contact_id="7")])
    assert failed == []
    assert [r.account_id for r in syncer.requests] == ["1"]


def test_only_the_last_delivery_is_the_final_attempt() -> None:
    syncer = FakeSyncer({})
    run(syncer, [msg("a", 4, account_id="1"), msg("b", 5, account_id="2")])
    assert [r.final_attempt for r in syncer.requests] == [False, True]
