"""Find Zoho Accounts by name or record id for the portal (one COQL query)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.models.webhook import ZOHO_ID

MAX_RESULTS = 25
MAX_QUERY_CHARS = 100
# COQL's `like` has no escape character, so a literal % cannot be searched for.
_WILDCARDS = re.compile(r"%")


@dataclass(frozen=True)
class AccountHit:
    account_id: str
    name: str | None
    add_to_xero: bool
    modified_at: str | None
    xero_id: str | None
    sync_status: str | None


class CoqlReader(Protocol):
    def coql(self, query: str, deadline: Deadline) -> tuple[list[dict[str, Any]], bool]: ...


class AccountSearch:
    def __init__(self, zoho: CoqlReader, field_map: Callable[[], FieldMap]) -> None:
        self.zoho = zoho
        self.field_map = field_map

    def search(self, text: str, deadline: Deadline) -> list[AccountHit]:
        """Accounts whose name contains `text` (any case), or whose id is `text`."""
        query = build_query(text, self.field_map())
        if query is None:
            return []
        rows, _ = self.zoho.coql(query, deadline)
        return [self._hit(row) for row in rows]

    def _hit(self, row: dict[str, Any]) -> AccountHit:
        field_map = self.field_map()
        return AccountHit(
            account_id=str(row.get("id")),
            name=row.get(field_map.account_name_field),
            add_to_xero=bool(row.get(field_map.add_to_xero_field)),
            modified_at=row.get("Modified_Time"),
            xero_id=row.get(field_map.writeback.xero_id),
            sync_status=row.get(field_map.writeback.status),
        )


def build_query(text: str, field_map: FieldMap) -> str | None:
    """The COQL for a search, or None when there is nothing to search for."""
    term = " ".join(text.split())[:MAX_QUERY_CHARS]
    name_field = field_map.account_name_field
    fields = [
        "id",
        name_field,
        field_map.add_to_xero_field,
        "Modified_Time",
        field_map.writeback.xero_id,
        field_map.writeback.status,
    ]
    criteria = []
    words = _WILDCARDS.sub(" ", term).strip()
    if words:
        criteria.append(f"{name_field} like {_quoted('%' + words + '%')}")
    if ZOHO_ID.match(term):
        criteria.append(f"id = {_quoted(term)}")
    if not criteria:
        return None
    where = " or ".join(criteria)  # at most two criteria: Zoho's pairwise grouping rule holds
    tail = f"order by {name_field} asc limit {MAX_RESULTS}"
    return f"select {', '.join(fields)} from Accounts where {where} {tail}"  # noqa: S608 - values quoted


def _quoted(value: str) -> str:
    """A COQL string literal: single quotes are escaped by doubling them."""
    return "'" + value.replace("'", "''") + "'"
