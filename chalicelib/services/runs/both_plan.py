"""Planning a `both` run: Xero's changed contacts first, then Zoho's changed Accounts.

    BothXeroCursor     the contacts Xero changed in the window (If-Modified-Since), kept with
                       the run exactly as a xero_to_zoho run keeps them (services/xero_runs.py)
    BothAccountsCursor the Accounts ticked "Add to Xero" and modified in the window
    BothContactsCursor the Accounts whose Contacts changed in the window while they did not

Xero goes first so that every contact Xero changed is kept before any Zoho batch runs: a
Zoho batch then leaves a linked pair whose contact is kept to the Xero batch that merges it
(services/both_runs.py), and each pair is merged once. Batches hold Zoho Account ids and
Xero ContactIDs side by side; the batch tells them apart.
"""

from __future__ import annotations

from typing import TypeAlias

from chalicelib.deadline import Deadline
from chalicelib.models.run_plan import (
    BothAccountsCursor,
    BothContactsCursor,
    BothCursor,
    BothXeroCursor,
    XeroCursor,
)
from chalicelib.models.runs import Run
from chalicelib.services.runs.deps import RunDependencies
from chalicelib.services.runs.zoho_listing import changed_contacts_page, keyset
from chalicelib.zoho import queries

# ids to batch, the next cursor (None: this run's own listing is done), a Xero page to keep
BothPage: TypeAlias = tuple[list[str], BothCursor | None, tuple[int, bytes] | None]


def plan_both(deps: RunDependencies, run: Run, cursor: BothCursor, deadline: Deadline) -> BothPage:
    """One page of a `both` run's listing."""
    match cursor:
        case BothXeroCursor():
            return _xero_page(deps, run, cursor, deadline)
        case BothAccountsCursor():
            return _accounts_page(deps, run, cursor, deadline)
        case BothContactsCursor():
            return _contacts_page(deps, run, cursor, deadline)


def _xero_page(deps: RunDependencies, run: Run, cursor: BothXeroCursor, deadline: Deadline) -> BothPage:
    ids, more, kept = deps.xero_to_zoho().plan_page(run, XeroCursor(page=cursor.page), deadline)
    if more is not None:
        return ids, BothXeroCursor(page=more.page), kept
    return ids, BothAccountsCursor(), kept


def _accounts_page(
    deps: RunDependencies, run: Run, cursor: BothAccountsCursor, deadline: Deadline
) -> BothPage:
    ticked = deps.field_map().add_to_xero_field
    rows, more = deps.zoho.coql(
        queries.accounts_changed(ticked, run.since, str(run.until), cursor.after), deadline
    )
    ids = [str(r["id"]) for r in rows]
    if more and rows:
        return ids, BothAccountsCursor(after=keyset(rows[-1])), None
    return ids, (BothContactsCursor() if run.since else None), None


def _contacts_page(
    deps: RunDependencies, run: Run, cursor: BothContactsCursor, deadline: Deadline
) -> BothPage:
    page = changed_contacts_page(deps, run, cursor.after, list(cursor.seen), deadline)
    if page.after is not None:
        return page.ids, BothContactsCursor(after=page.after, seen=page.seen), None
    return page.ids, None, None
