"""Building COQL safely: quoting, id lists and Zoho's pairwise grouping rule.

Zoho refuses more than two criteria side by side: `A and B and C` must be written
`((A and B) and C)`. Values are always quoted here, and ids must be digits, so no
text from a record can change a query's meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.models.webhook import ZOHO_ID


def text(value: str) -> str:
    """A quoted COQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def id_list(ids: Iterable[str]) -> str:
    """`('1', '2')` for an IN clause; refuses anything that is not a Zoho record id."""
    values = list(ids)
    for value in values:
        if not ZOHO_ID.match(value):
            raise ValueError(f"not a Zoho record id: {value!r}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def all_of(*criteria: str) -> str:
    return _group("and", [c for c in criteria if c])


def any_of(*criteria: str) -> str:
    return _group("or", [c for c in criteria if c])


def _group(word: str, criteria: list[str]) -> str:
    if not criteria:
        raise ValueError("at least one criterion is needed")
    grouped = criteria[0]
    for criterion in criteria[1:]:
        grouped = f"({grouped} {word} {criterion})"
    return grouped


def select(fields: Iterable[str], module: str, where: str, tail: str = "") -> str:
    query = f"select {', '.join(fields)} from {module} where {where}"  # noqa: S608 - values quoted above
    return f"{query} {tail}".strip()
