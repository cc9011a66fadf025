"""'Sync to Xero' clicked on a seeded Account: what the CRM user and the finance team see."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.integration.sandbox_api import Xero, Zoho, acct


@pytest.fixture
def xero(live) -> Xero:
    return Xero(live.xero_url)


@pytest.fixture
def zoho(live) -> Zoho:
    return Zoho(live.zoho_url)


def test_click_creates_the_xero_contact_and_writes_the_result_back(click, xero: Xero, zoho: Zoho) -> None:
    response = click(acct(1))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "synced"
    assert body["action"] == "created"
    assert body["message"] == "Synced to Xero (created)."
    [contact] = xero.with_number(acct(1))
    assert contact["ContactID"] == body["xero_contact_id"]
    assert contact["Name"] == "Acme Widgets Pty Ltd"
    assert contact["EmailAddress"] == "alice@acme.example"
    account = zoho.account(acct(1))
    assert account["Xero_ID"] == contact["ContactID"]
    assert account["Xero_Sync_Status"] == "Synced"
    assert contact["ContactID"] in account["Xero_Contact_URL"]
    assert account["Xero_Last_Synced"]
    assert account["Xero_Sync_Error"] in (None, "")


def test_second_click_changes_nothing_and_writes_nothing_to_xero(click, xero: Xero) -> None:
    assert click(acct(1)).json()["action"] == "created"
    writes_after_first = xero.contact_writes()

    second = click(acct(1))

    assert second.status_code == 200
    assert second.json()["action"] == "unchanged"
    assert xero.contact_writes() == writes_after_first
    assert len(xero.with_number(acct(1))) == 1


def test_edit_in_zoho_then_click_updates_the_same_contact(click, xero: Xero, zoho: Zoho) -> None:
    created = click(acct(2)).json()
    zoho.edit("Accounts", acct(2), {"Phone": "+61 2 4782 9999"})

    updated = click(acct(2)).json()

    assert updated["action"] == "updated"
    assert updated["xero_contact_id"] == created["xero_contact_id"]
    [contact] = xero.with_number(acct(2))
    default_phone = [p for p in contact.get("Phones", []) if p.get("PhoneType") == "DEFAULT"]
    assert default_phone and default_phone[0].get("PhoneNumber") == "+61 2 4782 9999"


def test_other_contacts_become_contact_persons(click, xero: Xero) -> None:
    assert click(acct(2)).json()["action"] == "created"
    [contact] = xero.with_number(acct(2))
    assert (contact["FirstName"], contact["LastName"]) == ("Bruno", "Rossi")
    people = {(p.get("FirstName"), p.get("LastName")): p for p in contact.get("ContactPersons", [])}
    assert set(people) == {("Chloe", "Smith"), ("Dev", "Patel")}
    assert people[("Chloe", "Smith")]["IncludeInEmails"] is True


def test_more_than_five_other_contacts_are_capped_with_a_warning(click, xero: Xero) -> None:
    body = click(acct(14)).json()
    assert body["status"] == "synced"
    [contact] = xero.with_number(acct(14))
    assert len(contact["ContactPersons"]) == 5
    assert any("5" in warning for warning in body.get("warnings", []))


def test_same_name_contact_without_code_is_adopted_not_duplicated(click, xero: Xero) -> None:
    before = len(xero.contacts())

    body = click(acct(7)).json()

    assert body["status"] == "synced"
    assert body["action"] == "updated"
    assert "existing Xero contact" in body["message"]
    assert body["xero_contact_id"] == "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01"
    assert len(xero.contacts()) == before
    [adopted] = xero.named("Fjord & Fell Outfitters")
    assert adopted["ContactNumber"] == acct(7)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (3, "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again."),
        (4, "Add to Xero is not ticked on this Account. To send it to Xero, tick Add to Xero on the Account"),
        (5, "none is marked Primary Contact"),
        (6, "Untick Primary Contact on all but one of them in Zoho CRM."),
        (8, "already has a different contact named “Greenleaf Organics”"),
        (10, "Xero allows at most 255"),
        (11, "reception@harbour"),
        (13, "archived in Xero"),
    ],
)
def test_each_rule_rejects_with_a_message_and_writes_nothing(
    n: int, expected: str, click, xero: Xero, zoho: Zoho
) -> None:
    contacts_before = xero.contacts()

    response = click(acct(n))

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "rejected"
    assert expected in body["message"]
    assert xero.contact_writes() == 0
    assert xero.contacts() == contacts_before
    account = zoho.account(acct(n))
    # An archived contact shows as such, as when Xero's webhook reports the archiving.
    assert account["Xero_Sync_Status"] == ("Archived in Xero" if n == 13 else "Rejected")
    assert expected in account["Xero_Sync_Error"]


def test_fixing_the_problem_clears_the_error(click, zoho: Zoho) -> None:
    assert click(acct(4)).status_code == 422
    zoho.edit("Accounts", acct(4), {"Add_to_Xero": True})

    body = click(acct(4)).json()

    assert body["status"] == "synced"
    account = zoho.account(acct(4))
    assert account["Xero_Sync_Status"] == "Synced"
    assert account["Xero_Sync_Error"] in (None, "")


def test_merged_contact_is_followed_to_the_survivor(click, xero: Xero, zoho: Zoho) -> None:
    # The Account was linked by adoption to a contact created in Xero without a Contact Code,
    # which a bookkeeper then merged into another contact.
    first = click(acct(7)).json()
    survivor = "7d6c1f0e-5a4b-4c3d-8e2f-1a0b9c8d7e6f"
    xero.put_contact({"ContactID": survivor, "Name": "Fjord & Fell Outfitters", "ContactStatus": "ACTIVE"})
    xero.put_contact(
        {
            "ContactID": first["xero_contact_id"],
            "Name": "Fjord & Fell Outfitters",
            "ContactStatus": "ARCHIVED",
            "MergedToContactID": survivor,
        }
    )
    zoho.edit("Accounts", acct(7), {"Phone": "+61 2 9000 2000"})

    body = click(acct(7)).json()

    assert body["status"] == "synced", body
    assert body["xero_contact_id"] == survivor
    assert zoho.account(acct(7))["Xero_ID"] == survivor
    assert [c["ContactID"] for c in xero.with_number(acct(7))] == [survivor]


def test_unknown_account_is_rejected_plainly(click) -> None:
    response = click("5725767000000999999")
    assert response.status_code == 422
    assert "was not found in Zoho CRM" in response.json()["message"]


def test_contact_id_button_syncs_its_account(client: httpx.Client, xero: Xero) -> None:
    from tests.integration.conftest import WEBHOOK_TOKEN

    response = client.post(
        "/webhooks/zoho",
        json={"contact_id": "5725767000000500002", "source": "button"},
        headers={"X-Webhook-Token": WEBHOOK_TOKEN},
    )
    assert response.status_code == 200, response.text
    assert len(xero.with_number(acct(2))) == 1


def test_the_zoho_button_as_a_user_sees_it(live, zoho: Zoho, xero: Xero) -> None:
    # The stand-in signs the body with HMAC like the Deluge function and shows our message.
    result = zoho.click(acct(9))
    assert result["status_code"] == 200
    assert result["message"] == "Synced to Xero (created)."
    [contact] = xero.with_number(acct(9))
    assert contact["Name"] == "Café Zürich Ñandú Ltd"


def test_many_simultaneous_clicks_make_one_contact(click: Callable[..., httpx.Response], xero: Xero) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: click(acct(12)), range(8)))

    assert all(r.status_code in (200, 202) for r in responses), [r.text for r in responses]
    actions = sorted(r.json().get("action", "queued") for r in responses)
    assert actions.count("created") == 1
    assert len(xero.with_number(acct(12))) == 1
    assert len(xero.named("Island Coffee Roasters")) == 1
