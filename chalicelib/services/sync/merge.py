"""Both Way's three-way merge of one linked pair, field by field, without I/O.

The base is the pair's last synced values (store/snapshots.py `LinkSnapshot`: what Zoho and
what Xero held after the last successful sync, keyed like mapping/directions.py). Each side is
compared with its own base value, so a value Xero stores differently from Zoho (trimmed, cased)
never looks like an edit:

- changed on one side only → it flows to the other (an emptied value too: cleared values flow);
- changed on both sides to the same value → nothing to write;
- changed on both sides to different values → a **conflict**, settled by `CONFLICT_POLICY`:
  `newest_wins` (the side whose record changed last: Zoho's Modified_Time against Xero's
  UpdatedDateUTC; a tie or an unknown time goes to Zoho, the system of record), `zoho_wins`,
  `xero_wins`, or `hold` (written nowhere; the base keeps the old value so the conflict stays
  until a person picks a side).

A field's direction limits what may flow: `to_xero` fields only go to Xero, `to_zoho` only come
back into Zoho, `both` merge. A field with no base yet (a pair linked before it was mapped) has
no evidence of a clearing: an empty side takes the other's value, two different values conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from chalicelib.mapping.fieldmap import Direction

Values = dict[str, str]


class ConflictPolicy(StrEnum):
    NEWEST_WINS = "newest_wins"
    ZOHO_WINS = "zoho_wins"
    XERO_WINS = "xero_wins"
    HOLD = "hold"


class Resolution(StrEnum):
    ZOHO = "zoho"  # Zoho's value went to both sides
    XERO = "xero"  # Xero's value went to both sides
    HELD = "held"  # written nowhere until a person decides


@dataclass(frozen=True)
class Conflict:
    key: str
    zoho: str  # Zoho's value now
    xero: str  # Xero's value now
    base: str | None  # what both held after the last sync (None: never synced)
    resolution: Resolution

    @property
    def winner(self) -> str | None:
        return {Resolution.ZOHO: self.zoho, Resolution.XERO: self.xero}.get(self.resolution)


@dataclass(frozen=True)
class Base:
    """The last synced values of both sides (a LinkSnapshot's `zoho` and `xero`)."""

    zoho: Mapping[str, str] = field(default_factory=dict)
    xero: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sides:
    """Both sides now: their mapped values and when each record last changed (ISO 8601)."""

    zoho: Mapping[str, str]
    xero: Mapping[str, str]
    zoho_modified: str | None = None  # Zoho's Modified_Time
    xero_updated: str | None = None  # Xero's UpdatedDateUTC


@dataclass(frozen=True)
class MergeResult:
    to_zoho: Values  # the fields Zoho must be given ("" = clear it)
    to_xero: Values  # the fields Xero must be given ("" = clear it)
    conflicts: tuple[Conflict, ...]
    next_base: Base  # what both sides hold once the writes land (held fields keep their base)

    @property
    def held(self) -> tuple[Conflict, ...]:
        return tuple(c for c in self.conflicts if c.resolution is Resolution.HELD)

    @property
    def writes(self) -> bool:
        return bool(self.to_zoho or self.to_xero)


def merge(
    base: Base,
    sides: Sides,
    directions: Mapping[str, Direction],
    policy: ConflictPolicy = ConflictPolicy.NEWEST_WINS,
) -> MergeResult:
    """What each side gets, the conflicts and the next base, for every field in `directions`."""
    to_zoho: Values = {}
    to_xero: Values = {}
    conflicts: list[Conflict] = []
    next_zoho: Values = {}
    next_xero: Values = {}
    for key, direction in directions.items():
        outcome = _merge_field(key, direction, base, sides, policy)
        if outcome.zoho is not None:
            to_zoho[key] = outcome.zoho
        if outcome.xero is not None:
            to_xero[key] = outcome.xero
        if outcome.conflict is not None:
            conflicts.append(outcome.conflict)
        next_zoho[key], next_xero[key] = outcome.next_zoho, outcome.next_xero
    return MergeResult(to_zoho, to_xero, tuple(conflicts), Base(next_zoho, next_xero))


def resolve(conflict: Conflict, side: Resolution) -> Conflict:
    """A held conflict a person settled: keep Zoho's or keep Xero's."""
    return Conflict(conflict.key, conflict.zoho, conflict.xero, conflict.base, side)


def zoho_is_newer(zoho_modified: str | None, xero_updated: str | None) -> bool:
    """Did the Zoho record change after the Xero contact? A tie or an unknown time: yes."""
    zoho, xero = _instant(zoho_modified), _instant(xero_updated)
    if zoho is None or xero is None:
        return True
    return zoho >= xero


# --- one field -----------------------------------------------------------------


@dataclass(frozen=True)
class _FieldOutcome:
    zoho: str | None  # write this into Zoho (None: no write)
    xero: str | None
    next_zoho: str
    next_xero: str
    conflict: Conflict | None = None


def _merge_field(
    key: str, direction: Direction, base: Base, sides: Sides, policy: ConflictPolicy
) -> _FieldOutcome:
    zoho, xero = _text(sides.zoho.get(key)), _text(sides.xero.get(key))
    if direction == "to_xero":
        return _one_way(zoho, xero, into_xero=True)
    if direction == "to_zoho":
        return _one_way(xero, zoho, into_xero=False)
    base_zoho, base_xero = base.zoho.get(key), base.xero.get(key)
    if base_zoho is None or base_xero is None:
        return _first_meeting(key, zoho, xero, sides, policy)
    zoho_moved, xero_moved = zoho != _text(base_zoho), xero != _text(base_xero)
    if zoho_moved and xero_moved and zoho != xero:
        held = _FieldOutcome(None, None, _text(base_zoho), _text(base_xero))
        return _conflict(key, zoho, xero, _text(base_zoho), sides, policy, held)
    if zoho_moved and zoho != xero:
        return _FieldOutcome(None, zoho, zoho, zoho)
    if xero_moved and xero != zoho:
        return _FieldOutcome(xero, None, xero, xero)
    return _FieldOutcome(None, None, zoho, xero)


def _one_way(source: str, target: str, *, into_xero: bool) -> _FieldOutcome:
    write = source if source != target else None
    if into_xero:
        return _FieldOutcome(None, write, source, source)
    return _FieldOutcome(write, None, source, source)


def _first_meeting(key: str, zoho: str, xero: str, sides: Sides, policy: ConflictPolicy) -> _FieldOutcome:
    """No base for this field: an empty side is filled in, a real disagreement is a conflict."""
    if zoho == xero:
        return _FieldOutcome(None, None, zoho, xero)
    if not xero:
        return _FieldOutcome(None, zoho, zoho, zoho)
    if not zoho:
        return _FieldOutcome(xero, None, xero, xero)
    return _conflict(key, zoho, xero, None, sides, policy, _FieldOutcome(None, None, "", ""))


def _conflict(
    key: str,
    zoho: str,
    xero: str,
    base: str | None,
    sides: Sides,
    policy: ConflictPolicy,
    held: _FieldOutcome,
) -> _FieldOutcome:
    resolution = _winner(policy, sides)
    conflict = Conflict(key, zoho, xero, base, resolution)
    if resolution is Resolution.ZOHO:
        return _FieldOutcome(None, zoho, zoho, zoho, conflict)
    if resolution is Resolution.XERO:
        return _FieldOutcome(xero, None, xero, xero, conflict)
    # Held: nothing written, and the base stays, so the next sync finds the same conflict.
    return replace(held, conflict=conflict)


def _winner(policy: ConflictPolicy, sides: Sides) -> Resolution:
    if policy is ConflictPolicy.HOLD:
        return Resolution.HELD
    if policy is ConflictPolicy.ZOHO_WINS:
        return Resolution.ZOHO
    if policy is ConflictPolicy.XERO_WINS:
        return Resolution.XERO
    return Resolution.ZOHO if zoho_is_newer(sides.zoho_modified, sides.xero_updated) else Resolution.XERO


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _text(value: str | None) -> str:
    return (value or "").strip()
