"""One verdict: the preview, a click and a bulk run's batch say the same about every Account.

Each seeded Account as it is, and each Xero situation a sync meets (archived, GDPRREQUEST,
merged, a Contact Code owned elsewhere, a same-name contact linked to another Account, an
adoptable name, unchanged since the last sync — also when Xero changed since), goes through
all three on the real stack: the portal's preview, "Sync to Xero" over the webhook, and the
batch a run would send (BatchSyncer over the run's index of Xero). Each must give the same
result, on the same Xero contact, and a rejection the same words (the preview words an
archived contact as a sync still to come).

The world is set up again from scratch between the batch and the click, since both write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from chalicelib.deadline import Deadline
from chalicelib.models.runs import Run, RunState, WindowKind
from chalicelib.models.sync import AccountState
from chalicelib.services.preview import PreviewOutcome
from chalicelib.services.sync.messages import archived_message
from chalicelib.services.xero_index import XeroIndex, index_row
from sandbox.seed_data import XERO_TENANT_ID, ZOHO_ACCOUNTS
from sandbox.stack import LocalStack
from tests.integration.conftest import clean_slate
from tests.integration.sandbox_api import Xero, Zoho, acct

ISLAND = 12  # "Island Coffee Roasters": valid, no contacts, nothing in Xero yet
LOSER = "5a5a5a5a-0000-4000-8000-000000000001"
SURVIVOR = "5a5a5a5a-0000-4000-8000-000000000002"
SAME_NAME = "5a5a5a5a-0000-4000-8000-000000000003"


@dataclass(frozen=True)
class Seen:
    result: str  # created | updated | unchanged | rejected
    contact: str | None  # the Xero contact written to (a label: see `World.label`)
    message: str | None  # the rejection, word for word


class World:
    """The stand-ins and the click, for setting a situation up."""

    def __init__(self, live: LocalStack, click: Callable[..., httpx.Response]) -> None:
        self.xero, self.zoho, self.click = Xero(live.xero_url), Zoho(live.zoho_url), click
        self.labels: dict[str, str] = {}  # ContactID -> a name that survives starting over

    def put(self, label: str, contact: dict[str, Any]) -> None:
        self.xero.put_contact(contact)
        self.labels[contact["ContactID"].lower()] = label

    def synced_before(self, n: int) -> str:
        body = self.click(acct(n)).json()
        assert body["status"] == "synced", body
        self.labels[body["xero_contact_id"].lower()] = "synced before"
        return body["xero_contact_id"]

    def set_status(self, contact_id: str, status: str) -> None:
        [contact] = [c for c in self.xero.contacts() if c["ContactID"] == contact_id]
        self.xero.put_contact(contact | {"ContactStatus": status})

    def label(self, contact_id: str | None) -> str | None:
        return self.labels.get(contact_id.lower(), contact_id) if contact_id else None


def nothing(world: World) -> None:
    """The seeded stand-ins as they are."""


def archived(world: World) -> None:
    world.put(
        "archived",
        {
            "ContactID": LOSER,
            "Name": "Island Coffee",
            "ContactNumber": acct(ISLAND),
            "ContactStatus": "ARCHIVED",
        },
    )


def erasure_requested(world: World) -> None:
    world.put(
        "erased",
        {
            "ContactID": LOSER,
            "Name": "Island Coffee",
            "ContactNumber": acct(ISLAND),
            "ContactStatus": "GDPRREQUEST",
        },
    )


def merged(world: World) -> None:
    """Linked to a contact a bookkeeper then merged into another (as in test_button_sync)."""
    from chalicelib.wiring import container

    world.put(
        "survivor", {"ContactID": SURVIVOR, "Name": "Island Coffee Roasters", "ContactStatus": "ACTIVE"}
    )
    world.put(
        "loser",
        {
            "ContactID": LOSER,
            "Name": "Island Coffee Roasters (old)",
            "ContactStatus": "ARCHIVED",
            "MergedToContactID": SURVIVOR,
        },
    )
    container().states.save(AccountState(acct(ISLAND), xero_contact_id=LOSER, tenant_id=XERO_TENANT_ID))


def code_owned_elsewhere(world: World) -> None:
    world.put(
        "same name",
        {
            "ContactID": SAME_NAME,
            "Name": "Island Coffee Roasters",
            "ContactNumber": "CUST-0099",
            "ContactStatus": "ACTIVE",
        },
    )


def linked_to_another_account(world: World) -> None:
    from chalicelib.wiring import container

    world.put(
        "same name", {"ContactID": SAME_NAME, "Name": "Island Coffee Roasters", "ContactStatus": "ACTIVE"}
    )
    container().states.save(AccountState(acct(2), xero_contact_id=SAME_NAME, tenant_id=XERO_TENANT_ID))


def adoptable_name(world: World) -> None:
    world.put(
        "same name", {"ContactID": SAME_NAME, "Name": "Island Coffee Roasters", "ContactStatus": "ACTIVE"}
    )


def unchanged(world: World) -> None:
    world.synced_before(ISLAND)


def unchanged_though_archived_since(world: World) -> None:
    world.set_status(world.synced_before(ISLAND), "ARCHIVED")


def edited_in_zoho(world: World) -> None:
    world.synced_before(ISLAND)
    world.zoho.edit("Accounts", acct(ISLAND), {"Phone": "+61 7 4000 1234"})


def edited_in_zoho_but_erasure_requested_in_xero(world: World) -> None:
    world.set_status(world.synced_before(ISLAND), "GDPRREQUEST")
    world.zoho.edit("Accounts", acct(ISLAND), {"Phone": "+61 7 4000 1234"})


SITUATIONS = [
    pytest.param(n, nothing, id=f"seeded {n}: {str(a['expect']).split(':')[0]}")
    for n, a in enumerate(ZOHO_ACCOUNTS, start=1)
] + [
    pytest.param(ISLAND, situation, id=situation.__name__.replace("_", " "))
    for situation in (
        archived,
        erasure_requested,
        merged,
        code_owned_elsewhere,
        linked_to_another_account,
        adoptable_name,
        unchanged,
        unchanged_though_archived_since,
        edited_in_zoho,
        edited_in_zoho_but_erasure_requested_in_xero,
    )
]


# --- the three ways to ask ---------------------------------------------------------------------


def ask_preview(world: World, account_id: str) -> Seen:
    from chalicelib.wiring import container

    shown = container().previewer.preview(account_id, Deadline(30))
    if shown.outcome is PreviewOutcome.REJECTED:
        return Seen("rejected", None, shown.message)
    if shown.outcome is PreviewOutcome.CREATE:
        return Seen("created", None, None)
    # "Unchanged" without the hash shortcut is an update that happens to change no value.
    result = "unchanged" if shown.skipped_by_hash else "updated"
    return Seen(result, world.label(shown.xero_contact_id), None)


def ask_batch(world: World, account_id: str) -> Seen:
    from chalicelib.wiring import container

    services = container()
    rows, page = [], 1
    while contacts := services.xero.list_contacts_page(page, Deadline(30)):
        rows += [index_row(c) for c in contacts]
        page += 1
    now = datetime.now(UTC).isoformat(timespec="seconds")
    run = Run(run_id="one-verdict", kind=WindowKind.ALL, state=RunState.RUNNING, created_at=now)
    [done] = services.runs.deps.batches.sync_batch(
        run, [account_id], XeroIndex(rows), Deadline(60), final_attempt=True
    )
    return seen(world, done.result.value, done.xero_contact_id, done.message)


def ask_click(world: World, account_id: str) -> Seen:
    body = world.click(account_id).json()
    result = "rejected" if body["status"] == "rejected" else body.get("action")
    return seen(world, str(result), body.get("xero_contact_id"), body["message"])


def seen(world: World, result: str, contact_id: str | None, message: str) -> Seen:
    if result == "rejected":
        return Seen(result, None, message)
    return Seen(result, None if result == "created" else world.label(contact_id), None)


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "situation"), SITUATIONS)
def test_preview_click_and_batch_give_one_verdict(
    n: int, situation: Callable[[World], None], live: LocalStack, click: Callable[..., httpx.Response]
) -> None:
    world = World(live, click)
    situation(world)
    previewed = ask_preview(world, acct(n))
    batched = ask_batch(world, acct(n))

    clean_slate(live)
    world = World(live, click)
    situation(world)
    clicked = ask_click(world, acct(n))

    assert clicked == batched, f"click {clicked} / batch {batched}"
    assert as_the_sync_words_it(previewed) == clicked, f"preview {previewed} / click {clicked}"


def as_the_sync_words_it(previewed: Seen) -> Seen:
    """The preview words an archived contact as a sync still to come; the sync as done."""
    name = re.search(r"“(.+?)”", previewed.message or "")
    if name and previewed.message == archived_message(name.group(1), preview=True):
        return Seen(previewed.result, previewed.contact, archived_message(name.group(1)))
    return previewed
