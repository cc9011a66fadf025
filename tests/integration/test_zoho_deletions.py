"""An Account deleted in Zoho CRM → its Xero contact archived, over the whole local stack:
Zoho's deleted-records list in the stand-in, the schedule's poll (its real handler), Xero's
stand-in. Seen twice it archives once; a Xero fault loses nothing; the setting turns it off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chalicelib.deadline import Deadline
from sandbox.stack import LocalStack
from tests.integration.test_runs import admin, drive, run_all, runs_queue, start

__all__ = ["admin", "drive", "run_all", "runs_queue", "start"]

ACME = "5725767000000400001"
BLUE = "5725767000000400002"
CONTACTS = "/api.xro/2.0/Contacts"


def sweep() -> Any:
    from chalicelib.wiring import container

    return container().zoho_deletions.archive_deleted_since(Deadline(30))


def archive_posts(live: LocalStack) -> list[dict[str, Any]]:
    return [
        c
        for c in live.xero.calls()
        if c.get("method") == "POST" and "ARCHIVED" in str(c.get("request_body") or "")
    ]


@pytest.fixture
def setting(monkeypatch: pytest.MonkeyPatch, live: LocalStack) -> Iterator[Callable[[str], None]]:
    from chalicelib import wiring

    def set_archive(value: str) -> None:
        monkeypatch.setenv("ARCHIVE_ON_ZOHO_DELETE", value)
        wiring._container.cache_clear()

    yield set_archive
    wiring._container.cache_clear()


def test_a_deleted_account_archives_its_xero_contact_once(
    live: LocalStack, click: Callable[..., httpx.Response]
) -> None:
    from chalicelib.handlers.zoho_deletions import poll_zoho_deletions

    contact_id = click(ACME).json()["xero_contact_id"]
    click(BLUE)
    live.zoho.delete("Accounts", ACME)
    live.xero.clear_calls()

    answer = poll_zoho_deletions()  # what the schedule runs every minute

    assert answer == {"status": "done", "seen": 1, "archived": 1}
    assert live.xero.contact(contact_id)["ContactStatus"] == "ARCHIVED"
    assert [c["ContactStatus"] for c in live.xero.contacts() if c.get("ContactNumber") == BLUE] == ["ACTIVE"]
    assert len(archive_posts(live)) == 1

    from chalicelib.wiring import container

    [entry] = [e for e in container().history.list(ACME)[0] if e.trigger == "zoho_delete"]
    assert "deleted in Zoho CRM" in entry.message and "recycle bin" in entry.message

    # Seen again: the next poll, a run's planning from long ago: nothing is sent again.
    assert sweep().archived == []
    assert container().zoho_deletions.archive_deleted_since(Deadline(30), since="2000-01-01T00:00:00+00:00")
    assert len(archive_posts(live)) == 1


def test_a_xero_fault_loses_no_deletion(live: LocalStack, click: Callable[..., httpx.Response]) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.delete("Accounts", ACME, permanent=True)
    live.xero.add_fault(status=503, count=20, method="POST", path_prefix=CONTACTS)

    interrupted = sweep()

    assert interrupted.status == "interrupted"
    assert live.xero.contact(contact_id)["ContactStatus"] == "ACTIVE"
    live.xero.faults.clear()
    live.xero.add_fault(status=429, retry_after=1, count=1, method="POST", path_prefix=CONTACTS)
    assert sweep().archived == [ACME]
    assert live.xero.contact(contact_id)["ContactStatus"] == "ARCHIVED"


def test_archive_on_zoho_delete_false_leaves_the_contact(
    live: LocalStack, click: Callable[..., httpx.Response], setting: Callable[[str], None]
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.delete("Accounts", ACME)
    setting("false")

    assert sweep().status == "off"
    assert live.xero.contact(contact_id)["ContactStatus"] == "ACTIVE"


def test_an_account_never_synced_is_left_alone(live: LocalStack) -> None:
    live.zoho.delete("Accounts", ACME)
    live.xero.clear_calls()

    done = sweep()

    assert (done.seen, done.archived) == (1, [])
    assert archive_posts(live) == []


def test_a_run_archives_the_contacts_of_accounts_deleted_since_the_last_sweep(
    live: LocalStack, click: Callable[..., httpx.Response], run_all: Callable[..., dict[str, Any]]
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.delete("Accounts", ACME)

    run_all("all")  # no schedule has polled since: the run's planning sweeps first

    assert live.xero.contact(contact_id)["ContactStatus"] == "ARCHIVED"
    assert len(archive_posts(live)) == 1
    run_all("all")
    assert len(archive_posts(live)) == 1  # the next run finds it handled


def deleted_list_reads(live: LocalStack) -> int:
    return sum(1 for c in live.zoho.calls() if str(c.get("path", "")).endswith("/Accounts/deleted"))


def test_the_minute_schedule_reads_zoho_only_every_poll_interval(
    live: LocalStack, click: Callable[..., httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read of Zoho's deleted list costs a credit: the minute schedule reads it only every
    ZOHO_DELETIONS_POLL_MINUTES; a deletion in between waits for the next due poll (or a run)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from chalicelib.handlers.zoho_deletions import poll_zoho_deletions
    from chalicelib.services.zoho_deletions import ZohoDeletions
    from chalicelib.wiring import container

    monkeypatch.setenv("ZOHO_DELETIONS_POLL_MINUTES", "15")
    contact_id = click(ACME).json()["xero_contact_id"]
    assert poll_zoho_deletions()["status"] == "done"
    live.zoho.delete("Accounts", ACME)
    live.zoho.clear_calls()

    assert poll_zoho_deletions() == {"status": "skipped", "seen": 0, "archived": 0}  # a minute later
    assert deleted_list_reads(live) == 0
    assert live.xero.contact(contact_id)["ContactStatus"] == "ACTIVE"

    later = datetime.now(UTC) + timedelta(minutes=15)
    due = ZohoDeletions(replace(container().zoho_deletions.deps, now=lambda: later))
    assert due.poll(Deadline(30), timedelta(minutes=15)).archived == [ACME]
    assert deleted_list_reads(live) == 1
    assert live.xero.contact(contact_id)["ContactStatus"] == "ARCHIVED"
