"""GET /Contacts: filters, ordering and paging, in the order Xero applies them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.xero.contacts import ContactBook, Record, render
from sandbox.xero.where import FIELD_TYPES, QueryParseError, compile_where, fold
from sandbox.xero.wire import is_guid, parse_bool, parse_http_or_iso_date

DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1, 1000
SEARCH_FIELDS = ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress")


def list_contacts(
    book: ContactBook, args: Mapping[str, str], if_modified_since: str | None
) -> dict[str, Any]:
    """The collections part of the response (`Contacts`, plus `pagination` when paged).

    Raises QueryParseError for a bad `where`, `order` or `IDs`.
    """
    records = _filter(book, args, if_modified_since)
    records = _order(records, args.get("order"))
    summary = parse_bool(args.get("summaryOnly"))
    page = _page_number(args.get("page"))
    if page is None and not summary:
        return {"Contacts": [render(r, "list") for r in records]}
    page = page or 1  # summaryOnly forces paging
    size = _page_size(args.get("pageSize"))
    chunk = records[(page - 1) * size : page * size]
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": -(-len(records) // size),
        "itemCount": len(records),
    }
    return {
        "pagination": pagination,
        "Contacts": [render(r, "summary" if summary else "full") for r in chunk],
    }


def _filter(book: ContactBook, args: Mapping[str, str], if_modified_since: str | None) -> list[Record]:
    records = book.ordered()
    ids = _ids(args.get("IDs"))
    if ids is not None:
        records = [r for r in records if r.id in ids]  # IDs include archived contacts
    elif not parse_bool(args.get("includeArchived")):
        records = [r for r in records if r.active]
    if args.get("where"):
        predicate = compile_where(args["where"], lambda record, name: record.value(name))
        records = [r for r in records if predicate(r)]
    term = (args.get("searchTerm") or "").strip()
    if term:
        needle = fold(term)
        records = [r for r in records if any(needle in fold(str(r.data.get(f) or "")) for f in SEARCH_FIELDS)]
    since = parse_http_or_iso_date(if_modified_since)
    if since is not None:
        # The header has second accuracy; anything updated after that second is returned.
        records = [r for r in records if int(r.updated) > int(since)]
    return records


def _ids(raw: str | None) -> set[str] | None:
    if raw is None:
        return None
    ids = {part.strip().lower() for part in raw.split(",") if part.strip()}
    bad = sorted(i for i in ids if not is_guid(i))
    if bad:
        raise QueryParseError(f"'{bad[0]}' is not a valid Guid in IDs")
    return ids


def _order(records: list[Record], order: str | None) -> list[Record]:
    """`order=Name DESC, ContactNumber`; strings sort case-insensitively, nulls first."""
    if not (order or "").strip():
        return records
    keys = []
    for part in order.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise QueryParseError(f"Syntax error in order '{part.strip()}'")
        if words[0] not in FIELD_TYPES:
            raise QueryParseError(f"No property or field '{words[0]}' exists in type 'Contact'")
        keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    for name, descending in reversed(keys):  # stable sorts, last key first
        records = sorted(records, key=lambda r, n=name: _sort_key(r.value(n)), reverse=descending)
    return records


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)


def _page_number(raw: str | None) -> int | None:
    try:
        return max(1, int(raw)) if raw is not None else None
    except ValueError:
        return None


def _page_size(raw: str | None) -> int:
    try:
        size = int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    return min(MAX_PAGE_SIZE, max(MIN_PAGE_SIZE, size))
