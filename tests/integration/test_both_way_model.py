"""A model of both sides (SYNC_MODE=both): hypothesis drives random sequences of what people and
machines do to a few linked pairs, over the whole local stack (real HTTP to the Zoho and Xero
stand-ins, moto's DynamoDB and SQS, our queue worker and runs worker), and after every settle
checks what a user would notice:

- one Xero contact per synced Account and one Account per linked contact (no duplicates);
- both sides equal on every two-way field, except a conflict held for a person (`hold`);
- no edit lost that did not collide (a field changed on one side only ends with that value);
- a second sync of a settled state writes nothing on either side (no ping-pong).

The steps: Zoho user edits and clears (with or without the workflow rule firing), Xero user
edits and clears (the stand-in's "as a Xero user" API), archive / restore in Xero, a Zoho
delete, button clicks, workflow events, Xero's webhooks delivered late (held back for several
steps), twice or newest first, runs in each direction, and injected 429 / 5xx on either side.

Bounded for CI (a few examples of a dozen steps). The long profile:
    BOTH_WAY_MODEL=soak .venv/bin/python -m pytest -q tests/integration/test_both_way_model.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sandbox.common import Fault
from sandbox.stack import LocalStack
from tests.integration.conftest import WEBHOOK_TOKEN, clean_slate
from tests.integration.test_runs import admin, drive, runs_queue, start  # noqa: F401  (fixtures)

# Three seeded Accounts that sync as they are: with a primary Contact (1, 2) and without one (12).
ACCOUNTS = ("5725767000000400001", "5725767000000400002", "5725767000000400012")
POLICIES = ("newest_wins", "zoho_wins", "xero_wins", "hold")
# Two-way fields: the Zoho Account field, and the key our store and the Conflicts page use.
FIELDS = {
    "Account_Number": "AccountNumber",
    "Phone": "Phones[PhoneType=DEFAULT].PhoneNumber",
    "Billing_City": "Addresses[AddressType=POBOX].City",
}
# A small alphabet, so both sides often pick the same value (that is no conflict) or clear it.
VALUES = {
    "Account_Number": ("A-1", "A-2", "B-7", ""),
    "Phone": ("+61 2 9000 1111", "+61 2 9000 2222", "09 555 0101", ""),
    "Billing_City": ("Sydney", "Hobart", "Wellington", ""),
}
PROFILES = {
    "ci": settings(max_examples=3, stateful_step_count=10),
    "soak": settings(max_examples=30, stateful_step_count=30),
}
PROFILE = os.environ.get("BOTH_WAY_MODEL", "ci")


def zoho_value(account: dict[str, Any], name: str) -> str:
    return str(account.get(name) or "")


def xero_value(contact: dict[str, Any], name: str) -> str:
    if name == "Account_Number":
        return str(contact.get("AccountNumber") or "")
    if name == "Phone":
        found = [p for p in contact.get("Phones") or [] if p.get("PhoneType") == "DEFAULT"]
        return str((found[0] if found else {}).get("PhoneNumber") or "")
    found = [a for a in contact.get("Addresses") or [] if a.get("AddressType") == "POBOX"]
    return str((found[0] if found else {}).get("City") or "")


def xero_edit(contact: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """The fields a Xero user's save sends to change this one value (a phone or address whole)."""
    if name == "Account_Number":
        return {"AccountNumber": value}
    if name == "Phone":
        phones = [p for p in contact.get("Phones") or [] if p.get("PhoneType") != "DEFAULT"]
        return {"Phones": [*phones, {"PhoneType": "DEFAULT", "PhoneNumber": value}]}
    addresses = [dict(a) for a in contact.get("Addresses") or []]
    pobox = next((a for a in addresses if a.get("AddressType") == "POBOX"), None)
    if pobox is None:
        addresses.append(pobox := {"AddressType": "POBOX"})
    pobox["City"] = value
    return {"Addresses": addresses}


@dataclass
class Side:
    """What the model knows of one field of one pair."""

    zoho: str
    xero: str
    edited: set[str] = field(default_factory=set)  # "zoho" / "xero": changed since the last settle


@dataclass
class Tools:
    live: LocalStack
    client: httpx.Client
    drain: Callable[..., int]
    start: Callable[..., httpx.Response]
    drive: Callable[..., dict[str, Any]]


def rewind(live: LocalStack) -> None:
    """Both stand-ins back on the real clock (each step moves them a second)."""
    live.xero.clock.reset()
    live.zoho.clock.reset()


def data_writes(live: LocalStack) -> list[dict[str, Any]]:
    """Zoho writes other than the sync's own status fields."""
    return [
        c
        for c in live.zoho.calls()
        if c.get("method") in ("PUT", "POST")
        and c.get("path", "").startswith("/crm/")
        and "/coql" not in c.get("path", "")
        and any(not k.startswith("Xero_") and k != "id" for r in c["request_body"]["data"] for k in r)
    ]


def xero_writes(live: LocalStack) -> list[dict[str, Any]]:
    return [
        c
        for c in live.xero.calls()
        if c["method"] in ("POST", "PUT") and c["path"].startswith("/api.xro/2.0/Contacts")
    ]


def machine(tools: Tools) -> type[RuleBasedStateMachine]:
    live = tools.live

    class BothSides(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clean_slate(live)
            rewind(live)
            live.xero.configure(webhook_background_delivery=False)  # deliveries are steps here
            self.pairs: dict[str, str] = {}  # Account id → Xero ContactID
            self.model: dict[tuple[str, str], Side] = {}
            self.archived: set[str] = set()
            self.deleted: set[str] = set()
            self.policy = "newest_wins"

        # --- set-up ---------------------------------------------------------------------

        @initialize(policy=st.sampled_from(POLICIES))
        def link_the_pairs(self, policy: str) -> None:
            from chalicelib import wiring

            self.policy = policy
            os.environ["SYNC_MODE"] = "both"
            os.environ["CONFLICT_POLICY"] = policy
            wiring._container.cache_clear()
            for account_id in ACCOUNTS:
                answer = self.press(account_id, "button").json()
                assert answer["status"] == "synced", answer
                self.pairs[account_id] = answer["xero_contact_id"]
                account = live.zoho.get("Accounts", account_id) or {}
                contact = live.xero.contact(answer["xero_contact_id"]) or {}
                for name in FIELDS:
                    self.model[(account_id, name)] = Side(
                        zoho_value(account, name), xero_value(contact, name)
                    )
                    assert zoho_value(account, name) == xero_value(contact, name), (account_id, name)

        # --- what people do -------------------------------------------------------------

        @rule(
            account_id=st.sampled_from(ACCOUNTS),
            name=st.sampled_from(list(FIELDS)),
            data=st.data(),
            workflow=st.booleans(),
        )
        def edit_in_zoho(self, account_id: str, name: str, data: st.DataObject, workflow: bool) -> None:
            if account_id in self.deleted:
                return
            value = data.draw(st.sampled_from(VALUES[name]), label="value")
            self.tick()
            live.zoho.edit("Accounts", account_id, {name: value or None}, automation=workflow)
            self.note(account_id, name, "zoho", value)
            if workflow:
                live.zoho.wait_for_webhooks()

        @rule(account_id=st.sampled_from(ACCOUNTS), name=st.sampled_from(list(FIELDS)), data=st.data())
        def edit_in_xero(self, account_id: str, name: str, data: st.DataObject) -> None:
            if account_id in self.deleted or account_id in self.archived:
                return  # Xero refuses edits to an archived contact
            value = data.draw(st.sampled_from(VALUES[name]), label="value")
            contact_id = self.pairs[account_id]
            self.tick()
            live.xero.user_edit_contact(
                contact_id, xero_edit(live.xero.contact(contact_id) or {}, name, value)
            )
            self.note(account_id, name, "xero", value)

        @rule(account_id=st.sampled_from(ACCOUNTS), archive=st.booleans())
        def archive_or_restore_in_xero(self, account_id: str, archive: bool) -> None:
            if account_id in self.deleted or (account_id in self.archived) == archive:
                return
            self.tick()
            status = "ARCHIVED" if archive else "ACTIVE"
            live.xero.user_edit_contact(self.pairs[account_id], {"ContactStatus": status})
            (self.archived.add if archive else self.archived.discard)(account_id)

        @precondition(lambda self: not self.deleted)
        @rule(account_id=st.sampled_from(ACCOUNTS))
        def delete_in_zoho(self, account_id: str) -> None:
            self.tick()
            live.zoho.delete("Accounts", account_id)
            self.deleted.add(account_id)

        @rule(account_id=st.sampled_from(ACCOUNTS), source=st.sampled_from(["button", "workflow"]))
        def sync_in_zoho(self, account_id: str, source: str) -> None:
            answer = self.press(account_id, source)
            assert answer.status_code < 500 or answer.status_code in (502, 503, 504), answer.text

        # --- what machines do -----------------------------------------------------------

        @rule(twice=st.booleans(), newest_first=st.booleans())
        def xero_delivers_its_webhooks(self, twice: bool, newest_first: bool) -> None:
            live.xero.configure(webhook_duplicate_deliveries=twice, webhook_out_of_order=newest_first)
            live.xero.deliver_webhooks(retries=True)

        @rule()
        def the_queue_worker_runs(self) -> None:
            tools.drain(max_seconds=10)

        @rule(direction=st.sampled_from(["zoho_to_xero", "xero_to_zoho", "both"]))
        def a_run(self, direction: str) -> None:
            response = tools.start({"days": 1}, direction=direction)
            assert response.status_code == 202, response.text
            tools.drive(response.json()["run_id"], max_seconds=60)

        @rule(
            side=st.sampled_from(["zoho", "xero"]),
            status=st.sampled_from([429, 500, 503]),
            count=st.integers(1, 3),
        )
        def a_fault(self, side: str, status: int, count: int) -> None:
            prefix = "/crm/" if side == "zoho" else "/api.xro/2.0/Contacts"
            fault = Fault(
                count=count, status=status, retry_after=1 if status == 429 else None, path_prefix=prefix
            )
            (live.zoho if side == "zoho" else live.xero).faults.add(fault)

        @rule()
        def settle_and_check(self) -> None:
            self.settle()
            self.check()

        def teardown(self) -> None:
            try:
                self.settle()
                self.check()
                self.check_a_second_sync_writes_nothing()
            finally:
                live.xero.faults.clear()
                live.zoho.faults.clear()

        # --- helpers --------------------------------------------------------------------

        def press(self, account_id: str, source: str) -> httpx.Response:
            return tools.client.post(
                "/webhooks/zoho",
                json={"account_id": account_id, "source": source},
                headers={"X-Webhook-Token": WEBHOOK_TOKEN},
            )

        def tick(self) -> None:
            """People act a second apart, on one clock for both services."""
            live.xero.clock.advance(1)
            live.zoho.clock.advance(1)

        def note(self, account_id: str, name: str, side: str, value: str) -> None:
            known = self.model[(account_id, name)]
            setattr(known, side, value)
            known.edited.add(side)

        def settle(self) -> None:
            """Faults stop; Xero delivers everything; the workers finish; each Account is synced
            once more (a click) and its echoes delivered; Zoho's deletions are swept."""
            from chalicelib.deadline import Deadline
            from chalicelib.wiring import container

            live.xero.faults.clear()
            live.zoho.faults.clear()
            live.xero.configure(webhook_duplicate_deliveries=False, webhook_out_of_order=False)
            live.zoho.wait_for_webhooks()
            self.deliver_and_drain()
            container().zoho_deletions.archive_deleted_since(Deadline(30))
            for account_id in ACCOUNTS:
                if account_id not in self.deleted:
                    self.press(account_id, "button")
            self.deliver_and_drain()

        def deliver_and_drain(self) -> None:
            live.xero.deliver_webhooks(retries=True)
            tools.drain(max_seconds=15)
            live.xero.deliver_webhooks(retries=True)
            tools.drain(max_seconds=15)

        def check(self) -> None:
            self.check_one_to_one()
            for account_id in ACCOUNTS:
                if account_id in self.deleted:
                    contact = live.xero.contact(self.pairs[account_id]) or {}
                    assert contact.get("ContactStatus") == "ARCHIVED", (
                        "a deleted Account's contact is archived"
                    )
                elif account_id in self.archived:
                    account = live.zoho.get("Accounts", account_id) or {}
                    assert account.get("Xero_Sync_Status") == "Archived in Xero", account
                else:
                    self.check_pair(account_id)

        def check_one_to_one(self) -> None:
            accounts = live.zoho.records("Accounts")
            linked = [str(a["Xero_ID"]).lower() for a in accounts if a.get("Xero_ID")]
            assert len(linked) == len(set(linked)), "two Accounts linked to one Xero contact"
            numbers = [c["ContactNumber"] for c in live.xero.contacts() if c.get("ContactNumber")]
            assert len(numbers) == len(set(numbers)), "two Xero contacts for one Account"
            for account_id, contact_id in self.pairs.items():
                assert (live.xero.contact(account_id) or {}).get("ContactID") == contact_id
                if account_id not in self.deleted:
                    account = live.zoho.get("Accounts", account_id) or {}
                    assert str(account.get("Xero_ID") or "").lower() == contact_id.lower()

        def check_pair(self, account_id: str) -> None:
            from chalicelib.wiring import container

            account = live.zoho.get("Accounts", account_id) or {}
            contact = live.xero.contact(self.pairs[account_id]) or {}
            held = {c.key: c for c in container().conflicts.for_account(account_id)}
            for name, key in FIELDS.items():
                known = self.model[(account_id, name)]
                zoho, xero = zoho_value(account, name), xero_value(contact, name)
                where = (account_id, name, self.policy, known, zoho, xero)
                collided = known.edited == {"zoho", "xero"} or known.zoho != known.xero
                if zoho != xero:
                    assert self.policy == "hold" and collided, ("the sides differ", where)
                    assert key in held and (held[key].zoho, held[key].xero) == (zoho, xero), where
                    assert (zoho, xero) == (known.zoho, known.xero), ("a held value moved", where)
                    assert account.get("Xero_Sync_Status") == "Conflict", where
                elif collided:
                    assert zoho in (known.zoho, known.xero), ("neither side's value", where)
                else:
                    assert zoho == known.zoho == known.xero, ("an edit was lost", where)
                    assert key not in held, where
                known.zoho, known.xero, known.edited = zoho, xero, set()
            if not held:
                assert account.get("Xero_Sync_Status") == "Synced", account

        def check_a_second_sync_writes_nothing(self) -> None:
            live.xero.clear_calls()
            live.zoho.clear_calls()
            self.settle()
            assert data_writes(live) == [], "a settled pair wrote Zoho again"
            assert xero_writes(live) == [], "a settled pair wrote Xero again"

    return BothSides


@pytest.mark.slow
@pytest.mark.timeout(3600 if PROFILE == "soak" else 900)
def test_both_sides_agree_after_any_sequence_and_keep_every_edit_that_did_not_collide(
    live: LocalStack,
    client: httpx.Client,
    drain: Callable[..., int],
    start: Callable[..., httpx.Response],  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    saved = {k: os.environ.get(k) for k in ("SYNC_MODE", "CONFLICT_POLICY")}
    try:
        run_state_machine_as_test(
            machine(Tools(live, client, drain, start, drive)),
            settings=settings(
                PROFILES[PROFILE],
                deadline=None,
                suppress_health_check=list(HealthCheck),
                print_blob=True,
            ),
        )
    finally:
        from chalicelib import wiring

        rewind(live)  # the steps moved the stand-ins' clocks: later tests' windows use real time

        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        wiring._container.cache_clear()
