"""The sync's decisions (services/sync/decide.py), on their own: no Zoho, no Xero, no table.

Xero is the run's real index (`XeroIndex`) or the live directory over an in-memory Xero
that answers like the client (`tests/fakes.py`); our links are a dict. Hypothesis draws organisations of
contacts (merged, archived, erased, coded, same-named) where the space is large.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.deadline import Deadline
from chalicelib.errors import ConflictError
from chalicelib.mapping import FieldMap, PreparedContact, load_field_map
from chalicelib.mapping.loader import REPO_MAP
from chalicelib.models.sync import AccountState, SyncAction, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import (
    MAX_MERGE_HOPS,
    Verdict,
    XeroContact,
    decide,
    follow_merges,
    zoho_shows,
    zoho_update,
)
from chalicelib.services.sync.directory import LiveDirectory
from chalicelib.services.xero_index import XeroIndex, index_row
from tests.fakes import FakeXeroContacts

TENANT = "tenant-1"
ACCOUNT = "5725767000000400001"
OTHER_ACCOUNT = "5725767000000400002"
NAME = "Acme Widgets Pty Ltd"


def prepared(name: str = NAME, content_hash: str = "hash-1") -> PreparedContact:
    return PreparedContact({"Name": name, "ContactNumber": ACCOUNT}, content_hash, primary_contact_id=None)


def contact(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "ContactID": f"c0ffee00-0000-4000-8000-{n:012d}",
        "Name": f"Contact {n}",
        "ContactStatus": "ACTIVE",
    } | fields


class Links:
    """Which Account holds which Xero contact (the state table's lookup)."""

    def __init__(self, **links: str) -> None:
        self.links = links

    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None:
        return self.links.get(contact_id)


def both(contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The same organisation as a click sees it and as a run's index sees it."""
    return {
        "live": LiveDirectory(FakeXeroContacts(*contacts), Deadline(5)),
        "index": XeroIndex(index_row(c) for c in contacts),
    }


def linked(contact_id: str | None, **fields: Any) -> AccountState:
    return AccountState(ACCOUNT, xero_contact_id=contact_id, tenant_id=TENANT, **fields)


# --- each situation, through both directories ------------------------------------------------


@pytest.mark.parametrize("source", ["live", "index"])
def test_nothing_in_xero_means_create(source: str) -> None:
    decision = decide(ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, both([])[source], Links())
    assert (decision.verdict, decision.contact, decision.action) == (Verdict.CREATE, None, SyncAction.CREATED)
    assert decision.message == "Synced to Xero (created)."
    assert decision.dry_run_message == "Would create a Xero contact."


@pytest.mark.parametrize("source", ["live", "index"])
def test_unchanged_content_asks_xero_nothing(source: str) -> None:
    state = linked("gone", status=SyncStatus.SYNCED, content_hash="hash-1")
    decision = decide(ACCOUNT, prepared(), state, TENANT, both([])[source], Links())
    assert (decision.verdict, decision.contact_id) == (Verdict.UNCHANGED, "gone")
    assert decision.message == "Already up to date in Xero; nothing to change."


@pytest.mark.parametrize(
    "state",
    [
        linked("x", status=SyncStatus.SYNCED, content_hash="other"),
        linked("x", status=SyncStatus.REJECTED, content_hash="hash-1"),
        AccountState(ACCOUNT, "x", tenant_id="another-org", status=SyncStatus.SYNCED, content_hash="hash-1"),
    ],
    ids=["content changed", "last sync rejected", "another organisation"],
)
def test_anything_else_is_not_unchanged(state: AccountState) -> None:
    assert decide(ACCOUNT, prepared(), state, TENANT, both([])["live"], Links()).verdict is Verdict.CREATE


@pytest.mark.parametrize("source", ["live", "index"])
def test_the_stored_contact_comes_first(source: str) -> None:
    mine, by_code = contact(1), contact(2, ContactNumber=ACCOUNT)
    decision = decide(
        ACCOUNT, prepared(), linked(mine["ContactID"]), TENANT, both([mine, by_code])[source], Links()
    )
    assert (decision.verdict, decision.contact_id) == (Verdict.UPDATE, mine["ContactID"])
    assert decision.message == "Synced to Xero (updated)."


@pytest.mark.parametrize("source", ["live", "index"])
def test_then_the_contact_code(source: str) -> None:
    by_code = contact(2, ContactNumber=ACCOUNT)
    decision = decide(ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, both([by_code])[source], Links())
    assert (decision.verdict, decision.contact_id) == (Verdict.UPDATE, by_code["ContactID"])


@pytest.mark.parametrize("source", ["live", "index"])
def test_a_merge_is_followed_to_the_survivor(source: str) -> None:
    survivor = contact(3)
    loser = contact(
        2, ContactNumber=ACCOUNT, ContactStatus="ARCHIVED", MergedToContactID=survivor["ContactID"]
    )
    decision = decide(
        ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, both([loser, survivor])[source], Links()
    )
    assert (decision.verdict, decision.contact_id) == (Verdict.UPDATE, survivor["ContactID"])


@pytest.mark.parametrize("source", ["live", "index"])
@pytest.mark.parametrize(
    ("status", "words"), [("ARCHIVED", "is archived in Xero"), ("GDPRREQUEST", "data-erasure request")]
)
def test_an_archived_or_erased_contact_is_refused(source: str, status: str, words: str) -> None:
    mine = contact(1, Name="Juniper Legal", ContactStatus=status)
    decision = decide(ACCOUNT, prepared(), linked(mine["ContactID"]), TENANT, both([mine])[source], Links())
    assert decision.verdict is Verdict.REJECTED and decision.action is SyncAction.NONE
    assert words in decision.message and "“Juniper Legal”" in decision.message
    assert decision.contact_id == mine["ContactID"]


def test_the_preview_words_an_archived_contact_as_a_sync_to_come() -> None:
    mine = contact(1, Name="Juniper Legal", ContactStatus="ARCHIVED")
    decision = decide(ACCOUNT, prepared(), linked(mine["ContactID"]), TENANT, both([mine])["live"], Links())
    assert decision.preview_rejection() == messages.archived_message("Juniper Legal", preview=True)


@pytest.mark.parametrize("source", ["live", "index"])
def test_a_same_name_contact_nobody_owns_is_adopted(source: str) -> None:
    same = contact(4, Name=NAME.upper())
    decision = decide(ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, both([same])[source], Links())
    assert (decision.verdict, decision.contact_id, decision.action) == (
        Verdict.ADOPT,
        same["ContactID"],
        SyncAction.UPDATED,
    )
    assert decision.message == messages.ADOPTED


@pytest.mark.parametrize("source", ["live", "index"])
@pytest.mark.parametrize(
    ("fields", "links", "words"),
    [
        ({"ContactNumber": "CUST-0042"}, {}, "its Contact Code is CUST-0042"),
        ({}, {"owner": OTHER_ACCOUNT}, f"already linked to Zoho Account {OTHER_ACCOUNT}"),
    ],
    ids=["code owned elsewhere", "linked to another Account"],
)
def test_a_same_name_contact_someone_owns_is_a_conflict(
    source: str, fields: dict[str, Any], links: dict[str, str], words: str
) -> None:
    same = contact(4, Name=NAME, **fields)
    owners = Links(**{same["ContactID"]: links["owner"]}) if links else Links()
    decision = decide(ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, both([same])[source], owners)
    assert decision.verdict is Verdict.REJECTED
    assert isinstance(decision.error, ConflictError)
    assert words in decision.message


def test_archived_same_name_contacts_are_not_adopted() -> None:
    gone = contact(4, Name=NAME, ContactStatus="ARCHIVED")
    for directory in both([gone]).values():
        assert (
            decide(ACCOUNT, prepared(), AccountState(ACCOUNT), TENANT, directory, Links()).verdict
            is Verdict.CREATE
        )


def test_a_stored_contact_missing_from_a_snapshot_is_trusted_but_live_it_is_looked_for_again() -> None:
    by_code = contact(2, ContactNumber=ACCOUNT)
    state = linked("created-after-the-index")
    directories = both([by_code])
    from_index = decide(ACCOUNT, prepared(), state, TENANT, directories["index"], Links())
    live = decide(ACCOUNT, prepared(), state, TENANT, directories["live"], Links())
    assert (from_index.verdict, from_index.contact_id) == (Verdict.UPDATE, "created-after-the-index")
    assert (live.verdict, live.contact_id) == (Verdict.UPDATE, by_code["ContactID"])


# --- properties over drawn organisations -----------------------------------------------------

STATUSES = st.sampled_from(["ACTIVE", "ACTIVE", "ARCHIVED", "GDPRREQUEST"])


@st.composite
def organisations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 8 contacts: some with our code or another's, some merged into others, some named like us."""
    size = draw(st.integers(0, 8))
    ids = [f"c0ffee00-0000-4000-8000-{n:012d}" for n in range(size)]
    contacts = []
    for n, contact_id in enumerate(ids):
        number = draw(st.sampled_from([None, None, ACCOUNT, "CUST-0042"]))
        if number == ACCOUNT and any(c.get("ContactNumber") == ACCOUNT for c in contacts):
            number = None  # Xero keeps ContactNumber unique
        body: dict[str, Any] = {
            "ContactID": contact_id,
            "Name": draw(st.sampled_from([NAME, NAME.lower(), f"Other {n}"])),
            "ContactStatus": draw(STATUSES),
        }
        if number:
            body["ContactNumber"] = number
        if ids and draw(st.booleans()) and draw(st.booleans()):
            body["MergedToContactID"] = draw(st.sampled_from(ids))
        contacts.append(body)
    return contacts


@st.composite
def situations(draw: st.DrawFn) -> tuple[list[dict[str, Any]], AccountState, Links]:
    contacts = draw(organisations())
    ids = [c["ContactID"] for c in contacts]
    stored = draw(st.sampled_from([None, *ids])) if ids else None
    status = draw(st.sampled_from([None, SyncStatus.SYNCED, SyncStatus.REJECTED]))
    content = draw(st.sampled_from(["hash-1", "hash-0"]))
    state = AccountState(ACCOUNT, stored, TENANT if stored else None, content if stored else None, status)
    owners = {i: draw(st.sampled_from([ACCOUNT, OTHER_ACCOUNT])) for i in ids if draw(st.booleans())}
    return contacts, state, Links(**owners)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_a_click_and_a_run_decide_alike_on_the_same_organisation(
    situation: tuple[list[dict[str, Any]], AccountState, Links],
) -> None:
    contacts, state, links = situation
    directories = both(contacts)
    live = decide(ACCOUNT, prepared(), state, TENANT, directories["live"], links)
    from_index = decide(ACCOUNT, prepared(), state, TENANT, directories["index"], links)
    assert (live.verdict, live.contact_id, live.message) == (
        from_index.verdict,
        from_index.contact_id,
        from_index.message,
    )


@settings(max_examples=300)
@given(situations())
def test_every_decision_is_coherent(situation: tuple[list[dict[str, Any]], AccountState, Links]) -> None:
    contacts, state, links = situation
    decision = decide(ACCOUNT, prepared(), state, TENANT, both(contacts)["index"], links)
    assert (decision.verdict is Verdict.REJECTED) == (decision.error is not None)
    assert (decision.verdict is Verdict.CREATE) == (decision.contact is None)
    by_id = {c["ContactID"]: c for c in contacts}
    written = by_id.get(decision.contact_id or "")
    if decision.verdict in (Verdict.UPDATE, Verdict.ADOPT) and written is not None:
        assert written["ContactStatus"] == "ACTIVE"  # never writes to an archived or erased contact
    if decision.verdict is Verdict.ADOPT:
        assert written is not None and not written.get("ContactNumber")
        assert links.find_account_by_xero_contact(TENANT, written["ContactID"]) in (None, ACCOUNT)
    if decision.verdict is Verdict.CREATE:  # never a duplicate of what we could have found
        assert not any(c.get("ContactNumber") == ACCOUNT for c in contacts)


@given(organisations(), st.integers(0, 7))
def test_following_merges_ends_on_a_contact_of_the_organisation(
    contacts: list[dict[str, Any]], start: int
) -> None:
    if not contacts:
        return
    directory = both(contacts)["index"]
    first = XeroContact.from_xero(contacts[start % len(contacts)])
    survivor = follow_merges(first, directory)
    assert survivor.contact_id in {c["ContactID"] for c in contacts}


def test_a_chain_of_merges_is_followed_at_most_max_hops() -> None:
    chain = [contact(n, MergedToContactID=contact(n + 1)["ContactID"]) for n in range(MAX_MERGE_HOPS + 2)]
    chain.append(contact(MAX_MERGE_HOPS + 2))
    survivor = follow_merges(XeroContact.from_xero(chain[0]), both(chain)["index"])
    assert survivor.contact_id == chain[MAX_MERGE_HOPS]["ContactID"]


# --- what Zoho shows -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def field_map() -> FieldMap:
    return load_field_map(str(REPO_MAP))


@given(
    status=st.sampled_from(list(SyncStatus)),
    contact_id=st.one_of(st.none(), st.uuids().map(str)),
    error=st.one_of(st.none(), st.text(max_size=3000)),
    before=st.dictionaries(
        st.sampled_from(["Xero_ID", "Xero_Contact_URL", "Xero_Sync_Status", "Xero_Sync_Error"]),
        st.one_of(st.none(), st.text(max_size=20)),
    ),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_after_the_write_back_zoho_shows_the_result(
    field_map: FieldMap, status: SyncStatus, contact_id: str | None, error: str | None, before: dict[str, Any]
) -> None:
    url = f"https://go.xero.com/Contacts/View/{contact_id}" if contact_id else None
    account = before | zoho_update(field_map, status, contact_id, url, "2026-12-03T10:00:00+00:00", error)
    assert zoho_shows(account, field_map, status, contact_id, error)


def test_zoho_shows_notices_each_difference(field_map: FieldMap) -> None:
    shown = zoho_update(field_map, SyncStatus.SYNCED, "c-1", "https://x/c-1", None, None)
    assert zoho_shows(shown, field_map, SyncStatus.SYNCED, "c-1")
    assert not zoho_shows(shown | {"Xero_ID": "c-2"}, field_map, SyncStatus.SYNCED, "c-1")
    assert not zoho_shows(shown | {"Xero_Contact_URL": None}, field_map, SyncStatus.SYNCED, "c-1")
    assert not zoho_shows(shown | {"Xero_Sync_Error": "old"}, field_map, SyncStatus.SYNCED, "c-1")
    assert not zoho_shows(shown, field_map, SyncStatus.REJECTED, "c-1", "Fix it.")
