"""The COQL queries the sync sends, built here so services never write query text.

Every value goes through coql.py's quoting, and ids must be Zoho record ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chalicelib.zoho import coql

PAGE = 2000  # COQL's maximum LIMIT
_KEYSET_ORDER = f"order by Modified_Time asc, id asc limit {PAGE}"


def accounts_by_id(fields: Iterable[str], ids: Sequence[str]) -> str:
    return coql.select(fields, "Accounts", f"id in {coql.id_list(ids)}")


def contacts_of_accounts(fields: Iterable[str], lookup: str, ids: Sequence[str]) -> str:
    """The Contacts whose Account lookup (`lookup`) is one of `ids`."""
    return coql.select(fields, "Contacts", f"{lookup} in {coql.id_list(ids)}")


def by_id_from(query: str, offset: int) -> str:
    """`query`'s page of up to PAGE rows in id order from row `offset` (for short lists)."""
    return f"{query} order by id asc limit {offset}, {PAGE}"


def accounts_changed(ticked: str, since: str | None, until: str, after: tuple[str, str] | None) -> str:
    """A page of the Accounts with `ticked` true, modified in the window, after a keyset."""
    where = coql.all_of(f"{ticked} = true", window("Modified_Time", since, until), keyset_after(after))
    return coql.select(["id", "Modified_Time"], "Accounts", where, _KEYSET_ORDER)


def contacts_changed(lookup: str, ticked: str, since: str, until: str, after: tuple[str, str] | None) -> str:
    """A page of the Contacts modified in the window whose ticked Account was not."""
    where = coql.all_of(
        window("Modified_Time", since, until),
        f"{lookup}.{ticked} = true",
        f"{lookup}.Modified_Time < {coql.text(since)}",
        keyset_after(after),
    )
    return coql.select(["id", lookup, "Modified_Time"], "Contacts", where, _KEYSET_ORDER)


def window(column: str, since: str | None, until: str) -> str:
    """`column` up to `until`, and from `since` when there is one (both inclusive)."""
    upper = f"{column} <= {coql.text(until)}"
    if not since:
        return upper
    return coql.all_of(f"{column} >= {coql.text(since)}", upper)


def keyset_after(after: tuple[str, str] | None) -> str:
    """Rows strictly after (Modified_Time, id) of the last row of the previous page."""
    if not after:
        return ""
    moment, record_id = coql.text(after[0]), coql.id_list([after[1]])[1:-1]
    return coql.any_of(
        f"Modified_Time > {moment}", coql.all_of(f"Modified_Time = {moment}", f"id > {record_id}")
    )


def accounts_linked_to(xero_id_field: str, contact_id: str) -> str:
    """The Accounts whose Xero ID field holds this Xero ContactID (at most 2: one is the link)."""
    return coql.select(["id"], "Accounts", f"{xero_id_field} = {coql.text(contact_id)}", "limit 2")


def accounts_named(name_field: str, xero_id_field: str, name: str) -> str:
    """The Accounts of this name, with their Xero ID (at most 2: one is adoptable, two are not)."""
    where = f"{name_field} = {coql.text(name)}"
    return coql.select(["id", xero_id_field], "Accounts", where, "limit 2")


# --- a full run's Zoho reads by id range (services/zoho_pages.py) -------------------------------

_ID_ORDER = f"order by id asc limit {PAGE}"


def _id(record_id: str) -> str:
    return coql.id_list([record_id])[1:-1]


def accounts_changed_by_id(ticked: str, since: str | None, until: str, after_id: str | None) -> str:
    """A page of the Accounts with `ticked` true, modified in the window, in id order after
    `after_id`: ids never change, so a write-back moving an Account out of the window while the
    run goes on cannot make the pages skip one (Zoho's own advice past 100,000 rows)."""
    after = f"id > {_id(after_id)}" if after_id else ""
    where = coql.all_of(f"{ticked} = true", window("Modified_Time", since, until), after)
    return coql.select(["id", "Modified_Time"], "Accounts", where, _ID_ORDER)


def accounts_in_range(fields: Iterable[str], ticked: str, low: str, high: str, after_id: str | None) -> str:
    """A page of the ticked Accounts whose id is from `low` to `high`, in id order."""
    after = f"id > {_id(after_id)}" if after_id else ""
    span = coql.all_of(f"id >= {_id(low)}", f"id <= {_id(high)}")
    return coql.select(fields, "Accounts", coql.all_of(span, f"{ticked} = true", after), _ID_ORDER)


def contacts_in_range(
    fields: Iterable[str], lookup: str, ticked: str, low: str, high: str, after_id: str | None
) -> str:
    """A page of the Contacts of the ticked Accounts whose id is from `low` to `high`, in id order."""
    after = f"id > {_id(after_id)}" if after_id else ""
    span = coql.all_of(f"{lookup}.id >= {_id(low)}", f"{lookup}.id <= {_id(high)}")
    where = coql.all_of(span, f"{lookup}.{ticked} = true", after)
    return coql.select(fields, "Contacts", where, _ID_ORDER)
