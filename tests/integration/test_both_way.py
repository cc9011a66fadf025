"""Both Way (SYNC_MODE=both) over the whole local stack: a click and a Xero event on a linked
pair merge both sides against the last synced values, write each side only what it lacks, and
settle or hold what both changed (CONFLICT_POLICY)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.stack import LocalStack
from tests.integration.test_from_xero import ACME, deliver, edit_in_xero, xero_key  # noqa: F401


@pytest.fixture
def both(monkeypatch: pytest.MonkeyPatch, live: LocalStack) -> Iterator[Callable[[str], None]]:
    from chalicelib import wiring

    def mode(policy: str) -> None:
        monkeypatch.setenv("SYNC_MODE", "both")
        monkeypatch.setenv("CONFLICT_POLICY", policy)
        wiring._container.cache_clear()

    yield mode
    wiring._container.cache_clear()


def data_writes(live: LocalStack) -> list[dict[str, Any]]:
    """Zoho writes other than the sync's own status fields."""
    return [
        c
        for c in live.zoho.calls()
        if c.get("method") in ("PUT", "POST")
        and "/coql" not in c.get("path", "")
        and any(not k.startswith("Xero_") and k != "id" for r in c["request_body"]["data"] for k in r)
    ]


def xero_writes(live: LocalStack) -> int:
    return sum(
        1
        for c in live.xero.calls()
        if c["method"] in ("POST", "PUT") and c["path"].rstrip("/").endswith("/Contacts")
    )


def timeline(account_id: str) -> list[str]:
    from chalicelib.wiring import container

    entries, _ = container().history.list(account_id, limit=50)
    return [e.message for e in entries]


def test_a_click_brings_xero_edits_in_and_sends_zoho_edits_out(
    live: LocalStack, click: Callable[..., httpx.Response], both: Callable[[str], None]
) -> None:
    both("newest_wins")
    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, AccountNumber="XERO-7")
    live.zoho.edit("Accounts", ACME, {"Phone": "+61 2 9000 1234"}, automation=False)

    assert click(ACME).json()["status"] == "synced"
    assert live.zoho.get("Accounts", ACME)["Account_Number"] == "XERO-7"
    contact = live.xero.contact(contact_id) or {}
    assert contact["AccountNumber"] == "XERO-7"
    assert any(p.get("PhoneNumber") == "+61 2 9000 1234" for p in contact["Phones"])

    live.zoho.clear_calls()
    writes_before = xero_writes(live)
    assert writes_before >= 2  # the create and the merge's push were counted
    assert click(ACME).json()["action"] == "unchanged"  # a settled pair: nothing written anywhere
    assert xero_writes(live) == writes_before
    assert data_writes(live) == []


def test_a_click_after_a_xero_edit_alone_writes_zoho_only(
    live: LocalStack, click: Callable[..., httpx.Response], both: Callable[[str], None]
) -> None:
    both("newest_wins")
    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, EmailAddress="ap@acme.example")
    writes_before = xero_writes(live)

    assert click(ACME).json()["action"] == "unchanged"
    assert xero_writes(live) == writes_before  # Xero has it already
    assert any(c.get("Email") == "ap@acme.example" for c in live.zoho.records("Contacts"))


def test_zoho_wins_a_field_both_changed_and_the_timeline_shows_both_values(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
    both: Callable[[str], None],
) -> None:
    both("zoho_wins")
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.edit("Accounts", ACME, {"Account_Number": "ZOHO-1"}, automation=False)
    edit_in_xero(live, contact_id, AccountNumber="XERO-1", EmailAddress="new@acme.example")

    deliver(contact_id)
    drain()
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "ZOHO-1"
    assert live.zoho.get("Accounts", ACME)["Account_Number"] == "ZOHO-1"
    assert any(c.get("Email") == "new@acme.example" for c in live.zoho.records("Contacts"))  # no collision
    [entry] = [m for m in timeline(ACME) if "changed in both" in m]
    assert "'ZOHO-1'" in entry and "'XERO-1'" in entry and "Zoho CRM's value was kept" in entry


def test_hold_writes_the_field_nowhere_and_the_account_says_conflict(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
    both: Callable[[str], None],
) -> None:
    from chalicelib.wiring import container

    both("hold")
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.edit("Accounts", ACME, {"Account_Number": "ZOHO-2"}, automation=False)
    edit_in_xero(live, contact_id, AccountNumber="XERO-2")

    deliver(contact_id)
    drain()
    account = live.zoho.get("Accounts", ACME)
    assert account["Account_Number"] == "ZOHO-2"
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "XERO-2"
    assert account["Xero_Sync_Status"] == "Conflict"
    assert "Account Number" in account["Xero_Sync_Error"]
    [held] = container().conflicts.for_account(ACME)
    assert (held.zoho, held.xero, held.label) == ("ZOHO-2", "XERO-2", "Account Number")
    deliver(contact_id)  # redelivered: still held, and the timeline says it once
    drain()
    assert len([m for m in timeline(ACME) if "changed in both" in m]) == 1

    answer = click(ACME).json()  # a click holds it too: Xero keeps its value
    assert "Account Number" in answer["message"]
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "XERO-2"
    assert live.zoho.get("Accounts", ACME)["Xero_Sync_Status"] == "Conflict"


def test_a_person_keeps_xeros_value_on_the_conflicts_page_and_it_applies_at_once(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
    both: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib import wiring
    from chalicelib.wiring import container
    from tests.portal_browser import PASSWORD, Browser

    both("hold")
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.edit("Accounts", ACME, {"Account_Number": "ZOHO-3"}, automation=False)
    edit_in_xero(live, contact_id, AccountNumber="XERO-3")
    deliver(contact_id)
    drain()
    monkeypatch.setenv("ADMIN_TOKEN", PASSWORD)
    monkeypatch.setenv("SESSION_SECRET", "s" * 48)
    monkeypatch.delenv("ADMIN_PASSWORD_HASH", raising=False)
    wiring._container.cache_clear()

    with Client(app) as chalice_client:
        browser = Browser(chalice_client)
        browser.sign_in()
        page = browser.get("/portal/conflicts").body.decode()
        assert "ZOHO-3" in page and "XERO-3" in page and "Account Number" in page
        refused = browser.post(f"/portal/conflicts/{ACME}", {"key": "AccountNumber", "keep": "xero"})
        assert refused.status_code in (400, 403) and container().conflicts.for_account(ACME)  # no CSRF token
        browser.get("/portal/conflicts")
        done = browser.post(
            f"/portal/conflicts/{ACME}",
            {"key": "AccountNumber", "keep": "xero", "csrf_token": browser.csrf()},
        )
        assert done.status_code == 200 and b"data-resolved" in done.body
        assert b"No conflicts are waiting" in done.body

    account = live.zoho.get("Accounts", ACME)
    assert account["Account_Number"] == "XERO-3"
    assert account["Xero_Sync_Status"] == "Synced"
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "XERO-3"
    assert container().conflicts.for_account(ACME) == []
    live.zoho.clear_calls()
    assert click(ACME).json()["status"] == "synced"  # settled: the next sync moves nothing
    assert live.zoho.get("Accounts", ACME)["Account_Number"] == "XERO-3"
    assert data_writes(live) == []


def test_a_field_cleared_in_zoho_is_cleared_in_xero_by_the_next_click(
    live: LocalStack, click: Callable[..., httpx.Response], both: Callable[[str], None]
) -> None:
    # Found by the model (test_both_way_model.py): the merge's snapshot already took the empty
    # value as synced before the push, so the push never sent the clear.
    both("newest_wins")
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.edit("Accounts", ACME, {"Account_Number": None}, automation=False)

    assert click(ACME).json()["status"] == "synced"
    assert not (live.xero.contact(contact_id) or {}).get("AccountNumber")
    assert not live.zoho.get("Accounts", ACME).get("Account_Number")


def test_a_zoho_edit_whose_push_failed_still_reaches_xero_on_the_next_click(
    live: LocalStack, click: Callable[..., httpx.Response], both: Callable[[str], None]
) -> None:
    both("newest_wins")
    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, EmailAddress="ap@acme.example")  # so the click merges first
    live.zoho.edit("Accounts", ACME, {"Account_Number": "ZOHO-9"}, automation=False)
    live.xero.add_fault(status=500, count=5, method="POST", path_prefix="/api.xro/2.0/Contacts")

    assert click(ACME).json()["status"] != "synced"
    live.xero.faults.clear()
    assert click(ACME).json()["status"] == "synced"
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "ZOHO-9"
    assert live.zoho.get("Accounts", ACME)["Account_Number"] == "ZOHO-9"


def test_the_account_page_shows_both_sides_the_base_and_what_the_next_sync_writes(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    both: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    from chalice.test import Client

    from app import app
    from chalicelib import wiring
    from tests.portal_browser import PASSWORD, Browser

    both("hold")
    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, AccountNumber="XERO-5")
    live.zoho.edit("Accounts", ACME, {"Account_Number": "ZOHO-5", "Fax": None}, automation=False)
    monkeypatch.setenv("ADMIN_TOKEN", PASSWORD)
    monkeypatch.setenv("SESSION_SECRET", "s" * 48)
    monkeypatch.delenv("ADMIN_PASSWORD_HASH", raising=False)
    wiring._container.cache_clear()
    xero_calls = len(live.xero.calls())

    with Client(app) as chalice_client:
        browser = Browser(chalice_client)
        browser.sign_in()
        page = browser.get(f"/portal/accounts/{ACME}").body.decode()

    [number] = re.findall(r'<tr data-field="Account Number" data-conflict>(.*?)</tr>', page, re.S)
    assert "ZOHO-5" in number and "XERO-5" in number and "ACC-0001" in number  # Zoho, Xero, base
    assert "held for a person to choose" in number
    [fax] = re.findall(r'<tr data-field="Fax">(.*?)</tr>', page, re.S)
    assert "cleared" in fax  # the next sync clears it in Xero
    assert not [c for c in live.xero.calls()[xero_calls:] if c["method"] in ("POST", "PUT")]  # read-only
