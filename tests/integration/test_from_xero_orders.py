"""Exactly one Account per Xero contact and no lost update, whatever order Xero's events
arrive in: duplicated, late (a worker that read the contact before a later edit), racing
another worker, or after a crash between "created in Zoho" and "recorded". Property-based.

Each example starts from a clean stack, creates one contact in Xero, and runs a generated
sequence of user edits and deliveries through the real XeroInbound (real HTTP to both stand-ins,
DynamoDB in moto's server). After every step: at most one Account has the contact's Xero ID, and
the Account shows the newest version processed so far (an older read never overwrites a newer
one). After a final delivery: exactly one Account, showing Xero's latest values, and the
contact's Contact Code is that Account.
"""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from sandbox.stack import LocalStack
from tests.integration.conftest import clean_slate

Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 0)),
        st.tuples(st.just("deliver"), st.integers(0, 5)),  # the version the worker read (back from newest)
        st.tuples(st.just("race"), st.integers(0, 0)),
        st.tuples(st.just("crash_after_create"), st.integers(0, 0)),
    ),
    min_size=1,
    max_size=7,
)


def phone(n: int) -> str:
    return f"09 555 {n:04d}"


def accounts_of(live: LocalStack, contact_id: str) -> list[dict[str, Any]]:
    return [a for a in live.zoho.records("Accounts") if a["Xero_ID"] == contact_id]


def process(inbound: Any, tenant: str, contact: dict[str, Any]) -> None:
    """One delivery handled as the queue would: a retriable answer comes back and runs again."""
    for _ in range(20):
        try:
            inbound.sync_contact(tenant, dict(contact), Deadline(30))
            return
        except RetriableError:
            threading.Event().wait(0.05)
    raise AssertionError("a delivery never got through")


class Scenario:
    def __init__(self, live: LocalStack) -> None:
        from chalicelib.wiring import container

        self.live = live
        self.inbound = container().xero_inbound
        self.tenant = live.xero.tenant_id
        first = live.xero.put_contact(
            {"Name": "Order Test Ltd", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": phone(0)}]}
        )
        self.contact_id = first["ContactID"]
        self.versions = [first]  # every version of the contact a worker could have read
        self.newest_processed = -1

    def edit(self) -> None:
        self.live.xero.clock.advance(1)
        current = self.live.xero.contact(self.contact_id) or {}
        body = {k: v for k, v in current.items() if k != "UpdatedDateUTC"}
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": phone(len(self.versions))}]
        self.versions.append(self.live.xero.put_contact(body))

    def deliver(self, back: int) -> None:
        index = max(0, len(self.versions) - 1 - back)
        self.read_and_process(index)

    def read_and_process(self, index: int) -> None:
        # A worker that read version `index` (the ContactNumber we set since is on the live one).
        seen = dict(self.versions[index])
        seen["ContactNumber"] = (self.live.xero.contact(self.contact_id) or {}).get("ContactNumber")
        process(self.inbound, self.tenant, seen)
        self.newest_processed = max(self.newest_processed, index)

    def race(self) -> None:
        index = len(self.versions) - 1
        threads = [threading.Thread(target=self.read_and_process, args=(index,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def crash_after_create(self) -> None:
        """A worker created the Account in Zoho and died before recording it anywhere."""
        if accounts_of(self.live, self.contact_id):
            return  # its claim would have stopped a second creation
        self.live.zoho.create(
            "Accounts",
            {"Account_Name": "Order Test Ltd", "Add_to_Xero": True, "Xero_ID": self.contact_id},
            automation=False,
        )

    def check_at_most_one_and_newest(self) -> None:
        found = accounts_of(self.live, self.contact_id)
        assert len(found) <= 1, found
        if found and self.newest_processed >= 0:
            newest = self.versions[self.newest_processed]["Phones"]
            expected = next(p["PhoneNumber"] for p in newest if p["PhoneType"] == "DEFAULT")
            assert found[0]["Phone"] in (expected, phone(0)), (found[0]["Phone"], expected)
            if found[0]["Phone"] != expected:
                assert found[0]["Created_By"]["name"] != "Xero Integration"  # only the crashed one lags


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_one_account_and_no_lost_update_in_any_order(stack: LocalStack, plan: list[Step]) -> None:
    clean_slate(stack)
    scenario = Scenario(stack)
    for action, arg in plan:
        if action == "edit":
            scenario.edit()
        elif action == "deliver":
            scenario.deliver(arg)
        elif action == "race":
            scenario.race()
        else:
            scenario.crash_after_create()
        scenario.check_at_most_one_and_newest()

    scenario.deliver(0)  # Xero's event for the latest edit arrives in the end
    [account] = accounts_of(stack, scenario.contact_id)
    assert account["Phone"] == phone(len(scenario.versions) - 1)
    assert stack.xero.contact(scenario.contact_id)["ContactNumber"] == account["id"]
