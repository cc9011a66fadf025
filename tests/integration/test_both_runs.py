"""`both` runs end to end: the admin API, the runs queue through the real `run_worker`, both
stand-ins. Pairs linked by a Zoho → Xero run are edited on either side (and on both), then a
`"direction": "both"` run merges them; what an operator sees: each side's values, the run's
counts, the timeline, and how few writes it took (the stand-ins' call logs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.stack import LocalStack
from tests.integration.test_runs import admin, drive, run_all, runs_queue, start  # noqa: F401  (fixtures)

Pairs = list[tuple[str, str]]  # (Account id, Xero ContactID)


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    from chalicelib import wiring

    def use(name: str) -> None:
        monkeypatch.setenv("CONFLICT_POLICY", name)
        wiring._container.cache_clear()

    yield use
    wiring._container.cache_clear()


@pytest.fixture
def pairs(live: LocalStack, run_all: Callable[..., dict[str, Any]]) -> Pairs:  # noqa: F811
    """Linked pairs with their last synced values: a Zoho → Xero run over generated Accounts."""
    live.xero.reset(seed=False)
    live.zoho.reset(seed=False)
    live.zoho.generate(30, seed=3)
    first = run_all("all")
    linked = [
        (str(c["ContactNumber"]), str(c["ContactID"])) for c in live.xero.contacts() if c.get("ContactNumber")
    ]
    assert first["counts"]["created"] == len(linked) >= 20
    live.xero.clock.advance(5)
    return sorted(linked)


def edit_xero(live: LocalStack, contact_id: str, **changes: Any) -> None:
    contact = {k: v for k, v in (live.xero.contact(contact_id) or {}).items() if k != "UpdatedDateUTC"}
    live.xero.put_contact({**contact, **changes})


def xero_phone(live: LocalStack, contact_id: str, kind: str = "DEFAULT") -> str:
    phones = (live.xero.contact(contact_id) or {}).get("Phones") or []
    return next((str(p.get("PhoneNumber") or "") for p in phones if p.get("PhoneType") == kind), "")


def writes(live: LocalStack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Xero writes, Zoho writes) the stand-ins saw since their logs were cleared."""
    xero = [c for c in live.xero.calls() if c["method"] in ("POST", "PUT") and "/api.xro/" in c["path"]]
    zoho = [c for c in live.zoho.calls() if c["method"] in ("POST", "PUT") and "/coql" not in c["path"]]
    return xero, zoho


def clear(live: LocalStack) -> None:
    live.xero.clear_calls()
    live.zoho.clear_calls()


def timeline(account_id: str) -> list[str]:
    from chalicelib.wiring import container

    entries, _ = container().history.list(account_id, limit=50)
    return [e.message for e in entries]


def problems(run_id: str) -> dict[str, str]:
    from chalicelib.wiring import container

    found, _ = container().runs.accounts(run_id, problems_only=True, limit=100)
    return {o.account_id: o.message for o in found}


def test_edits_on_both_sides_are_merged_in_one_write_a_side_and_a_rerun_writes_nothing(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    zoho_side, xero_side = pairs[:5], pairs[5:10]
    for n, (account_id, _) in enumerate(zoho_side):
        live.zoho.edit(
            "Accounts", account_id, {"Phone": f"+64 9 555 00{n:02d}", "Fax": f"+64 9 777 00{n:02d}"}
        )
    for n, (_, contact_id) in enumerate(xero_side):
        edit_xero(live, contact_id, AccountNumber=f"XERO-{n}")
    clear(live)

    run = run_all({"days": 1}, direction="both")

    assert run["direction"] == "both"
    assert run["counts"]["updated"] == 10, run
    assert run["counts"]["failed"] == 0  # (one generated Account is rejected by Zoho → Xero too)
    for n, (_, contact_id) in enumerate(zoho_side):
        assert xero_phone(live, contact_id) == f"+64 9 555 00{n:02d}"
        assert xero_phone(live, contact_id, "FAX") == f"+64 9 777 00{n:02d}"  # a to_xero field too
    for n, (account_id, _) in enumerate(xero_side):
        assert (live.zoho.get("Accounts", account_id) or {})["Account_Number"] == f"XERO-{n}"
    xero_writes, zoho_writes = writes(live)
    assert len(xero_writes) == 1, [c["path"] for c in xero_writes]  # one POST for the batch
    assert len(zoho_writes) <= 2, [c["path"] for c in zoho_writes]

    clear(live)
    again = run_all({"days": 1}, direction="both")
    assert again["counts"]["updated"] == 0, again
    assert writes(live) == ([], [])


@pytest.mark.parametrize(
    ("name", "zoho_value_wins"),
    [("zoho_wins", True), ("xero_wins", False), ("newest_wins", False)],
)
def test_a_field_both_changed_is_settled_by_the_policy_and_the_timeline_shows_both_values(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
    policy: Callable[[str], None],
    name: str,
    zoho_value_wins: bool,
) -> None:
    policy(name)
    account_id, contact_id = pairs[0]
    live.zoho.edit("Accounts", account_id, {"Account_Number": "ZOHO-1"})
    live.xero.clock.advance(120)  # Xero's edit is the newer one
    edit_xero(live, contact_id, AccountNumber="XERO-1", EmailAddress="ap@both.example")

    run = run_all({"days": 1}, direction="both")

    winner = "ZOHO-1" if zoho_value_wins else "XERO-1"
    assert run["counts"]["updated"] == 1, run
    assert (live.zoho.get("Accounts", account_id) or {})["Account_Number"] == winner
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == winner
    assert any(c.get("Email") == "ap@both.example" for c in live.zoho.records("Contacts"))  # no collision
    [entry] = [m for m in timeline(account_id) if "changed in both" in m]
    assert "'ZOHO-1'" in entry and "'XERO-1'" in entry
    clear(live)
    assert run_all({"days": 1}, direction="both")["counts"]["updated"] == 0
    assert writes(live) == ([], [])


def test_hold_writes_neither_value_and_the_account_shows_conflict(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
    policy: Callable[[str], None],
) -> None:
    policy("hold")
    account_id, contact_id = pairs[0]
    live.zoho.edit("Accounts", account_id, {"Account_Number": "ZOHO-1", "Phone": "+64 9 111 2222"})
    edit_xero(live, contact_id, AccountNumber="XERO-1")

    run = run_all({"days": 1}, direction="both")

    assert "Conflicts page" in problems(run["run_id"])[account_id]
    account = live.zoho.get("Accounts", account_id) or {}
    assert (account["Account_Number"], account["Xero_Sync_Status"]) == ("ZOHO-1", "Conflict")
    assert "Account Number" in account["Xero_Sync_Error"]
    assert (live.xero.contact(contact_id) or {})["AccountNumber"] == "XERO-1"
    assert xero_phone(live, contact_id) == "+64 9 111 2222"  # what did not collide still flows
    from chalicelib.wiring import container

    assert [c.key for c in container().conflicts.for_account(account_id)] == ["AccountNumber"]
    clear(live)
    again = run_all({"days": 1}, direction="both")  # still held: reported, nothing written
    assert "Conflicts page" in problems(again["run_id"])[account_id]
    assert writes(live) == ([], [])
    assert len([m for m in timeline(account_id) if "changed in both" in m]) == 1


def test_a_dry_run_writes_nothing_and_says_what_would_happen(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    account_id, _ = pairs[0]
    _, contact_id = pairs[1]
    live.zoho.edit("Accounts", account_id, {"Phone": "+64 9 000 1111"})
    edit_xero(live, contact_id, AccountNumber="XERO-9")
    clear(live)

    run = run_all({"days": 1}, direction="both", dry_run=True)

    assert run["dry_run"] and run["counts"]["updated"] == 2, run
    assert writes(live) == ([], [])
    from chalicelib.wiring import container

    outcomes, _ = container().runs.accounts(run["run_id"], problems_only=False, limit=100)
    said = {o.account_id: o.message for o in outcomes}
    assert said[account_id] == "Would merge both ways: Xero would get Phone."
    assert said[pairs[1][0]] == "Would merge both ways: Zoho CRM would get Account Number."


def test_new_accounts_and_unlinked_contacts_go_their_own_way(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    account = live.zoho.create(
        "Accounts", {"Account_Name": "New In Zoho Ltd", "Add_to_Xero": True}, automation=False
    )
    person = {
        "First_Name": "Ana",
        "Last_Name": "Ngata",
        "Email": "ana@new.example",
        "Account_Name": {"id": account["id"]},
    }
    live.zoho.create("Contacts", {**person, "Primary_Contact": True}, automation=False)
    made = live.xero.put_contact({"Name": "Only In Xero Ltd", "EmailAddress": "hello@only.example"})
    clear(live)

    run = run_all({"days": 1}, direction="both")

    assert run["counts"]["created"] == 2, problems(run["run_id"])
    assert [c for c in live.xero.contacts() if c.get("ContactNumber") == account["id"]]
    assert [a for a in live.zoho.records("Accounts") if a.get("Xero_ID") == made["ContactID"]]


def test_a_batch_delivered_twice_or_retried_after_a_fault_writes_once(
    live: LocalStack,
    pairs: Pairs,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    from chalicelib.deadline import Deadline
    from chalicelib.wiring import container

    for n, (account_id, contact_id) in enumerate(pairs[:4]):
        live.zoho.edit("Accounts", account_id, {"Phone": f"+64 9 444 00{n:02d}"})
        edit_xero(live, contact_id, AccountNumber=f"X-{n}")
    from sandbox.common import Fault

    # Every in-process attempt of the first POST fails: the batch goes back to the queue.
    live.xero.faults.add(Fault(count=3, status=503, method="POST", path_prefix="/api.xro/2.0/Contacts"))
    clear(live)

    run = run_all({"days": 1}, direction="both")

    assert run["counts"]["updated"] == 4 and run["counts"]["failed"] == 0, run
    for n, (account_id, contact_id) in enumerate(pairs[:4]):
        assert xero_phone(live, contact_id) == f"+64 9 444 00{n:02d}"
        assert (live.zoho.get("Accounts", account_id) or {})["Account_Number"] == f"X-{n}"
    assert len([e for e in timeline(pairs[0][0]) if e.startswith("Merged both ways")]) == 1

    # Delivered again after it wrote (a crash before its outcomes were recorded): nothing twice.
    clear(live)
    finished = container().runs.get(run["run_id"])
    assert finished is not None
    keys = [contact_id for _, contact_id in pairs[:4]]
    again = container().both_runs.sync_batch(finished, keys, "both_xero", Deadline(30), final_attempt=False)
    assert {o.result.value for o in again} == {"updated"}
    assert writes(live) == ([], [])


def test_the_schedule_runs_both_ways_when_its_setting_says_so(
    live: LocalStack,
    runs_queue: Any,  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.handlers.schedule import scheduled_sync

    monkeypatch.setenv("SYNC_SCHEDULE_DIRECTION", "both")
    run = drive(scheduled_sync()["run_id"])
    assert (run["direction"], run["origin"]) == ("both", "Schedule")


def test_an_unknown_direction_names_the_three_that_exist(start: Callable[..., Any], live: LocalStack) -> None:  # noqa: F811
    response = start("all", direction="both_ways")
    assert response.status_code == 400
    message = response.json()["message"]
    assert '"zoho_to_xero"' in message and '"xero_to_zoho"' in message and '"both"' in message
