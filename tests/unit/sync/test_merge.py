"""Both Way's three-way merge (services/sync/merge.py): what each side gets, and the conflicts."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.mapping.fieldmap import Direction
from chalicelib.services.sync.merge import (
    Base,
    ConflictPolicy,
    MergeResult,
    Resolution,
    Sides,
    merge,
    zoho_is_newer,
)

KEYS = ("Name", "EmailAddress", "Phones[PhoneType=DEFAULT].PhoneNumber", "AccountNumber")
BOTH: dict[str, Direction] = {key: "both" for key in KEYS}
EARLY, LATE = "2026-12-01T09:00:00+00:00", "2026-12-01T10:00:00.000+00:00"

values = st.sampled_from(["", "a", "b", "c"])
states = st.fixed_dictionaries({key: values for key in KEYS})
policies = st.sampled_from(list(ConflictPolicy))


def _merge(base: dict[str, str], zoho: dict[str, str], xero: dict[str, str], **kw: Any) -> MergeResult:
    sides = Sides(zoho, xero, kw.pop("zoho_modified", EARLY), kw.pop("xero_updated", LATE))
    return merge(Base(base, base), sides, kw.pop("directions", BOTH), **kw)


def _apply(result: MergeResult, zoho: dict[str, str], xero: dict[str, str]) -> tuple[dict, dict]:
    return {**zoho, **result.to_zoho}, {**xero, **result.to_xero}


# --- examples a user would recognise ---------------------------------------------------


def test_an_edit_in_zoho_goes_to_xero_and_one_in_xero_comes_back() -> None:
    base = {"Name": "Acme", "EmailAddress": "a@acme.example"}
    result = _merge(base, {**base, "Name": "Acme Ltd"}, {**base, "EmailAddress": "ap@acme.example"})
    assert result.to_xero == {"Name": "Acme Ltd"}
    assert result.to_zoho == {"EmailAddress": "ap@acme.example"}
    assert result.conflicts == ()


def test_a_phone_cleared_in_zoho_is_cleared_in_xero() -> None:
    key = "Phones[PhoneType=DEFAULT].PhoneNumber"
    result = _merge({key: "02 9999 0000"}, {key: ""}, {key: "02 9999 0000"})
    assert result.to_xero == {key: ""}
    assert result.next_base.xero[key] == ""


def test_both_sides_changed_to_the_same_value_is_no_conflict() -> None:
    result = _merge({"Name": "Acme"}, {"Name": "Acme Ltd"}, {"Name": "Acme Ltd"})
    assert not result.writes and result.conflicts == ()
    assert result.next_base.zoho["Name"] == "Acme Ltd"


def test_newest_wins_gives_the_field_to_the_side_edited_last() -> None:
    base, zoho, xero = {"Name": "Acme"}, {"Name": "Acme Zoho"}, {"Name": "Acme Xero"}
    xero_later = _merge(base, zoho, xero, zoho_modified=EARLY, xero_updated=LATE)
    assert xero_later.to_zoho == {"Name": "Acme Xero"} and xero_later.to_xero == {}
    [conflict] = xero_later.conflicts
    assert (conflict.zoho, conflict.xero, conflict.base) == ("Acme Zoho", "Acme Xero", "Acme")
    assert conflict.resolution is Resolution.XERO
    zoho_later = _merge(base, zoho, xero, zoho_modified=LATE, xero_updated=EARLY)
    assert zoho_later.to_xero == {"Name": "Acme Zoho"} and zoho_later.to_zoho == {}


def test_newest_wins_compares_xero_and_zoho_times_across_offsets() -> None:
    assert zoho_is_newer("2026-12-01T20:30:00+10:00", "2026-12-01T10:00:00Z")
    assert not zoho_is_newer("2026-12-01T19:30:00+10:00", "2026-12-01T10:00:00Z")
    assert zoho_is_newer(None, "2026-12-01T10:00:00Z")  # unknown: Zoho, the system of record


def test_hold_writes_the_field_nowhere_and_keeps_holding_it() -> None:
    base, zoho, xero = {"Name": "Acme"}, {"Name": "Acme Zoho"}, {"Name": "Acme Xero"}
    result = _merge(base, zoho, xero, policy=ConflictPolicy.HOLD)
    assert not result.writes
    assert [c.key for c in result.held] == ["Name"]
    again = merge(result.next_base, Sides(zoho, xero), BOTH, ConflictPolicy.HOLD)
    assert [c.key for c in again.held] == ["Name"] and not again.writes


def test_one_way_fields_only_flow_their_way() -> None:
    directions: dict[str, Direction] = {"Name": "to_xero", "AccountNumber": "to_zoho"}
    base = {"Name": "Acme", "AccountNumber": "A1"}
    result = _merge(
        base,
        {"Name": "Acme Ltd", "AccountNumber": "Z9"},
        {"Name": "Acme Xero", "AccountNumber": "A2"},
        directions=directions,
    )
    assert result.to_xero == {"Name": "Acme Ltd"}
    assert result.to_zoho == {"AccountNumber": "A2"}
    assert result.conflicts == ()


def test_without_a_base_an_empty_side_is_filled_and_nothing_is_cleared() -> None:
    result = merge(
        Base(), Sides({"Name": "Acme", "EmailAddress": ""}, {"Name": "", "EmailAddress": "x@y.z"}), BOTH
    )
    assert result.to_xero == {"Name": "Acme"}
    assert result.to_zoho == {"EmailAddress": "x@y.z"}


# --- properties ---------------------------------------------------------------------


@given(base=states, zoho=states, xero=states, policy=policies)
def test_no_edit_that_did_not_collide_is_lost(base, zoho, xero, policy) -> None:
    result = _merge(base, zoho, xero, policy=policy)
    zoho_after, xero_after = _apply(result, zoho, xero)
    conflicted = {c.key for c in result.conflicts}
    for key in KEYS:
        if key in conflicted:
            continue
        if zoho[key] != base[key]:
            assert zoho_after[key] == xero_after[key] == zoho[key]
        elif xero[key] != base[key]:
            assert zoho_after[key] == xero_after[key] == xero[key]


@given(base=states, zoho=states, xero=states, policy=policies)
def test_conflicts_are_exactly_the_fields_both_sides_changed_differently(base, zoho, xero, policy) -> None:
    result = _merge(base, zoho, xero, policy=policy)
    expected = {k for k in KEYS if zoho[k] != base[k] and xero[k] != base[k] and zoho[k] != xero[k]}
    assert {c.key for c in result.conflicts} == expected
    for conflict in result.conflicts:
        assert (conflict.zoho, conflict.xero) == (zoho[conflict.key], xero[conflict.key])


@given(base=states, zoho=states, xero=states, policy=policies)
def test_after_the_writes_both_sides_agree_except_held_fields(base, zoho, xero, policy) -> None:
    result = _merge(base, zoho, xero, policy=policy)
    zoho_after, xero_after = _apply(result, zoho, xero)
    held = {c.key for c in result.held}
    assert {k for k in KEYS if zoho_after[k] != xero_after[k]} <= held
    assert not (held & (set(result.to_zoho) | set(result.to_xero)))


@given(base=states, zoho=states, xero=states, policy=policies)
def test_merging_a_settled_state_writes_nothing(base, zoho, xero, policy) -> None:
    first = _merge(base, zoho, xero, policy=policy)
    zoho_after, xero_after = _apply(first, zoho, xero)
    second = merge(first.next_base, Sides(zoho_after, xero_after, EARLY, LATE), BOTH, policy)
    assert not second.writes
    assert {c.key for c in second.conflicts} == {c.key for c in first.held}
    assert second.next_base == first.next_base


_MIRROR = {
    ConflictPolicy.ZOHO_WINS: ConflictPolicy.XERO_WINS,
    ConflictPolicy.XERO_WINS: ConflictPolicy.ZOHO_WINS,
    ConflictPolicy.HOLD: ConflictPolicy.HOLD,
    ConflictPolicy.NEWEST_WINS: ConflictPolicy.NEWEST_WINS,
}
_SWAP = {Resolution.ZOHO: Resolution.XERO, Resolution.XERO: Resolution.ZOHO, Resolution.HELD: Resolution.HELD}


@given(base=states, zoho=states, xero=states, policy=policies)
def test_the_merge_is_symmetric_in_its_two_sides(base, zoho, xero, policy) -> None:
    forward = merge(Base(base, base), Sides(zoho, xero, EARLY, LATE), BOTH, policy)
    mirrored = merge(Base(base, base), Sides(xero, zoho, LATE, EARLY), BOTH, _MIRROR[policy])
    assert (mirrored.to_zoho, mirrored.to_xero) == (forward.to_xero, forward.to_zoho)
    assert [(c.key, c.zoho, c.xero, _SWAP[c.resolution]) for c in mirrored.conflicts] == [
        (c.key, c.xero, c.zoho, c.resolution) for c in forward.conflicts
    ]
    assert (mirrored.next_base.zoho, mirrored.next_base.xero) == (
        forward.next_base.xero,
        forward.next_base.zoho,
    )
