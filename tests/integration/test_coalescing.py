"""Workflow events coalesce: quick saves in Zoho become one sync, and no save is ever left unsynced.

Saves go through the Zoho stand-in as a CRM user makes them, so the workflow webhooks are
the real ones; the queue worker is the app's real SQS handler.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from sandbox.seed_data import contact_id
from tests.integration.sandbox_api import Xero, Zoho, acct

QUIET_SECONDS = "0.5"  # short, so the test stays fast; the default is 3 s


@pytest.fixture(autouse=True)
def short_quiet_period(live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALESCE_SECONDS", QUIET_SECONDS)  # settings are read at call time


@pytest.fixture
def xero(live: Any) -> Xero:
    return Xero(live.xero_url)


@pytest.fixture
def zoho(live: Any) -> Zoho:
    return Zoho(live.zoho_url)


@pytest.fixture
def service_logs() -> Iterator[io.StringIO]:
    """Our JSON log lines, through the same formatter as in Lambda."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    library = logging.getLogger("chalicelib")
    library.addHandler(handler)
    yield stream
    library.removeHandler(handler)


def webhooks_sent(live: Any) -> list[dict[str, Any]]:
    assert live.zoho.wait_for_webhooks(timeout=10)
    return [d for d in live.zoho.webhook_deliveries() if d["kind"] == "workflow"]


def history(account_id: str) -> list[Any]:
    from chalicelib.settings import get_settings
    from chalicelib.store.history import HistoryRepository

    entries, _ = HistoryRepository(boto3.client("dynamodb"), get_settings().TABLE_NAME).list(account_id, 100)
    return entries


def queued_messages() -> int:
    from chalicelib.settings import get_settings

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=get_settings().SYNC_QUEUE_URL, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def default_phone(contact: dict[str, Any]) -> str | None:
    phones = [p for p in contact.get("Phones", []) if p.get("PhoneType") == "DEFAULT"]
    return phones[0].get("PhoneNumber") if phones else None


def finished_syncs(logs: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == "queued sync finished"]


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_five_quick_saves_are_one_sync_with_the_last_values(
    live: Any, drain: Callable[..., int], xero: Xero, zoho: Zoho, service_logs: io.StringIO
) -> None:
    phones = [f"+61 2 4782 10{n:02d}" for n in range(5)]
    for phone in phones:
        zoho.edit("Accounts", acct(2), {"Phone": phone})

    assert [d["status_code"] for d in webhooks_sent(live)] == [202] * 5
    assert queued_messages() == 1
    drain()

    assert xero.contact_writes() == 1
    [contact] = xero.with_number(acct(2))
    assert default_phone(contact) == phones[-1]
    assert [(e.trigger.value, e.action.value) for e in history(acct(2))] == [("workflow", "created")]
    assert zoho.account(acct(2))["Xero_Sync_Status"] == "Synced"
    assert [line["coalesced_events"] for line in finished_syncs(service_logs)] == [5]


def test_a_save_made_while_the_sync_runs_gets_a_second_sync(
    live: Any, drain: Callable[..., int], xero: Xero, zoho: Zoho
) -> None:
    zoho.edit("Accounts", acct(2), {"Phone": "+61 2 4782 2001"})
    webhooks_sent(live)

    def account_reads() -> int:
        return sum(
            1 for c in zoho.calls() if c["method"] == "GET" and c["path"].endswith(f"/Accounts/{acct(2)}")
        )

    reads_before = account_reads()
    xero.fault(delay=0.5, method="POST", path_prefix="/api.xro/2.0/Contacts")  # a slow Xero write
    worker = threading.Thread(target=drain)
    worker.start()
    # The sync has read the Account (so its pending marker is gone) and is now writing to Xero.
    wait_until(lambda: account_reads() > reads_before, "the queued sync to read the Account")
    zoho.edit("Accounts", acct(2), {"Phone": "+61 2 4782 2002"})
    worker.join()
    webhooks_sent(live)
    drain()

    [contact] = xero.with_number(acct(2))
    assert default_phone(contact) == "+61 2 4782 2002"
    assert xero.contact_writes() == 2
    assert sorted(e.action.value for e in history(acct(2))) == ["created", "updated"]
    assert queued_messages() == 0


def test_quick_saves_on_a_contact_resync_its_account_once(
    live: Any, drain: Callable[..., int], xero: Xero, zoho: Zoho, service_logs: io.StringIO
) -> None:
    bruno = contact_id(2)  # the primary contact of Blue Mountain Bakery (acct 2)
    for n in range(3):
        zoho.edit("Contacts", bruno, {"Email": f"bruno{n}@bluemountain.example"})

    assert [d["payload"] for d in webhooks_sent(live)] == [{"contact_id": bruno, "source": "workflow"}] * 3
    drain()

    [contact] = xero.with_number(acct(2))
    assert contact["EmailAddress"] == "bruno2@bluemountain.example"
    assert xero.contact_writes() == 1
    assert len(history(acct(2))) == 1
    assert [line["coalesced_events"] for line in finished_syncs(service_logs)] == [3]


def test_saving_an_account_and_its_contact_together_is_one_sync(
    live: Any, drain: Callable[..., int], xero: Xero, zoho: Zoho, service_logs: io.StringIO
) -> None:
    zoho.edit("Accounts", acct(2), {"Phone": "+61 2 4782 3001"})
    zoho.edit("Contacts", contact_id(2), {"Email": "bruno@bakery.example"})
    assert len(webhooks_sent(live)) == 2

    drain()

    [contact] = xero.with_number(acct(2))
    assert (default_phone(contact), contact["EmailAddress"]) == ("+61 2 4782 3001", "bruno@bakery.example")
    assert xero.contact_writes() == 1
    assert len(history(acct(2))) == 1
    assert [line["coalesced_events"] for line in finished_syncs(service_logs)] == [2]
