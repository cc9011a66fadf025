"""A run's plan cursor is stored as JSON and read back typed (models/run_plan.py).

Runs in flight across a deploy hold cursors written by the engine before it was typed
(plain dicts keyed by "phase"): they must read back as the same place in the plan, and a
cursor this engine writes must read back as itself.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.models.run_plan import (
    PLAN_CURSOR,
    AccountsCursor,
    BothAccountsCursor,
    BothContactsCursor,
    BothXeroCursor,
    CarryCursor,
    ContactsCursor,
    IndexCursor,
    RetryCursor,
    XeroCursor,
)

WRITTEN_BEFORE = [
    ({"phase": "index", "page": 3}, IndexCursor(page=3)),
    ({"phase": "xero", "page": 2}, XeroCursor(page=2)),
    ({"phase": "accounts", "after": None}, AccountsCursor()),
    (
        {"phase": "accounts", "after": ["2026-01-01T00:00:00+00:00", "4876876000000123"]},
        AccountsCursor(after=("2026-01-01T00:00:00+00:00", "4876876000000123")),
    ),
    (
        {"phase": "contacts", "after": ["2026-01-01T00:00:00+00:00", "7"], "seen": ["1", "2"]},
        ContactsCursor(after=("2026-01-01T00:00:00+00:00", "7"), seen=["1", "2"]),
    ),
    (
        {"phase": "retry", "of": "20260101-000000-abcdef01", "cursor": None},
        RetryCursor(of="20260101-000000-abcdef01"),
    ),
    ({"phase": "carry", "of": "r1", "cursor": "opaque"}, CarryCursor(of="r1", cursor="opaque")),
    ({"phase": "both_xero", "page": 2}, BothXeroCursor(page=2)),
    (
        {"phase": "both_accounts", "after": ["2026-01-01T00:00:00+00:00", "9"]},
        BothAccountsCursor(after=("2026-01-01T00:00:00+00:00", "9")),
    ),
    ({"phase": "both_contacts", "after": None, "seen": ["1"]}, BothContactsCursor(seen=["1"])),
]


@pytest.mark.parametrize(("stored", "expected"), WRITTEN_BEFORE)
def test_a_cursor_written_before_reads_back_as_the_same_place(
    stored: dict[str, object], expected: object
) -> None:
    cursor = PLAN_CURSOR.validate_json(json.dumps(stored))
    assert cursor == expected
    assert PLAN_CURSOR.validate_json(PLAN_CURSOR.dump_json(cursor)) == expected


@pytest.mark.parametrize(
    "stored",
    [
        {"phase": "sideways", "page": 1},
        {"phase": "retry"},
        {"phase": "both_xero", "page": "one"},
        {"phase": "index", "page": "first"},
        {"page": 1},
    ],
)
def test_a_damaged_cursor_is_refused_where_it_is_read(stored: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PLAN_CURSOR.validate_json(json.dumps(stored))
