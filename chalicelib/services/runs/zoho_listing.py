"""The Zoho side of a run's listing that one-way and `both` runs share: the Accounts whose
Contacts changed in the window (while the Account itself may not have), page by page."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.deadline import Deadline
from chalicelib.models.runs import Run
from chalicelib.services.runs.deps import RunDependencies
from chalicelib.zoho import queries

MAX_SEEN = 5000  # contact-pass dedupe memory carried between plan steps


@dataclass(frozen=True)
class ContactsPage:
    ids: list[str]  # Accounts not listed by an earlier page of this pass
    after: tuple[str, str] | None  # the keyset of the next page; None: the pass is done
    seen: list[str]  # the Accounts listed so far (the last MAX_SEEN), carried to the next page


def changed_contacts_page(
    deps: RunDependencies, run: Run, after: tuple[str, str] | None, seen: list[str], deadline: Deadline
) -> ContactsPage:
    fm = deps.field_map()
    lookup = fm.contact_account_field
    query = queries.contacts_changed(lookup, fm.add_to_xero_field, str(run.since), str(run.until), after)
    rows, more = deps.zoho.coql(query, deadline)
    seen = list(seen)
    known = set(seen)
    ids = []
    for account_id in (lookup_id(row.get(lookup)) for row in rows):
        if account_id and account_id not in known:
            known.add(account_id)
            seen.append(account_id)
            ids.append(account_id)
    next_after = keyset(rows[-1]) if more and rows else None
    return ContactsPage(ids, next_after, seen[-MAX_SEEN:])


def keyset(row: dict[str, object]) -> tuple[str, str]:
    return (str(row["Modified_Time"]), str(row["id"]))


def lookup_id(account: object) -> str | None:
    return str(account.get("id")) if isinstance(account, dict) else None
