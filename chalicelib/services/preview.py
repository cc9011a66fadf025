"""What the next sync of one Account would change in Xero, field by field (old → new).

Read-only: it reads the Account and its Contacts from Zoho, maps them with the same map
and rules as a real sync (`prepare_contact`), asks the sync's own decision
(`services/sync/decide.py`, over the live Xero directory) what it would do and to which
contact, and compares. Nothing is written anywhere and no lock is taken.

Only the fields a sync sends can change: Xero keeps what an update leaves out, so a Zoho
field that is empty (and therefore not sent) is shown as "kept".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, PreparedContact, prepare_contact
from chalicelib.models.sync import AccountState
from chalicelib.services.sync.decide import Decision, Verdict, decide, follow_merges
from chalicelib.services.sync.directory import LiveDirectory

# Keyed lists: Xero matches these items by their type, not their position.
KEYED_LISTS = {"Phones": "PhoneType", "Addresses": "AddressType"}


class PreviewOutcome(StrEnum):
    CREATE = "create"  # a new Xero contact
    ADOPT = "adopt"  # an existing same-name contact with no Contact Code becomes this Account's
    UPDATE = "update"
    UNCHANGED = "unchanged"  # nothing would be written (or the sync would skip the Account)
    REJECTED = "rejected"  # the data must be fixed first; `message` says what


@dataclass(frozen=True)
class FieldChange:
    field: str  # a readable Xero path: "Phones (MOBILE) › PhoneNumber"
    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return (self.old or "") != (self.new or "")


@dataclass
class Preview:
    account_id: str
    outcome: PreviewOutcome
    message: str
    account_name: str | None = None
    xero_contact_id: str | None = None
    xero_contact_name: str | None = None
    changes: list[FieldChange] = field(default_factory=list)  # fields whose value would change
    same: list[FieldChange] = field(default_factory=list)  # fields sent with the value Xero already has
    warnings: list[str] = field(default_factory=list)
    # Zoho has not changed since the last sync, so a sync would skip this Account even if
    # someone edited the contact in Xero (`changes` then lists what Xero differs in).
    skipped_by_hash: bool = False


class ZohoReader(Protocol):
    def get_record(
        self, module: str, record_id: str, fields: list[str], deadline: Deadline
    ) -> dict[str, Any] | None: ...
    def get_related_contacts(
        self, account_id: str, fields: list[str], deadline: Deadline
    ) -> list[dict[str, Any]]: ...


class XeroReader(Protocol):
    def tenant_id(self, deadline: Deadline) -> str: ...
    def get_contact(self, key: str, deadline: Deadline) -> dict[str, Any] | None: ...
    def find_active_by_name(self, name: str, deadline: Deadline) -> list[dict[str, Any]]: ...


class StateReader(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class PreviewService:
    def __init__(
        self,
        zoho: ZohoReader,
        xero: XeroReader,
        states: StateReader,
        field_map: Callable[[], FieldMap],
    ) -> None:
        self.zoho = zoho
        self.xero = xero
        self.states = states
        self.field_map = field_map

    def preview(self, account_id: str, deadline: Deadline) -> Preview:
        """Raises FatalError/RetriableError when Zoho or Xero cannot be read (the page says so)."""
        field_map = self.field_map()
        account = self.zoho.get_record("Accounts", account_id, field_map.account_fields(), deadline)
        if account is None:
            return Preview(
                account_id, PreviewOutcome.REJECTED, f"Account {account_id} was not found in Zoho CRM."
            )
        name = account.get(field_map.account_name_field)
        contacts = self.zoho.get_related_contacts(account_id, field_map.contact_fields(), deadline)
        try:
            prepared = prepare_contact(account, contacts, field_map)
        except RejectedError as error:
            return Preview(account_id, PreviewOutcome.REJECTED, error.message, account_name=name)
        tenant_id = self.xero.tenant_id(deadline)
        state = self.states.get(account_id) or AccountState(account_id=account_id)
        directory = LiveDirectory(self.xero, deadline)
        decision = decide(account_id, prepared, state, tenant_id, directory, self.states)
        if decision.error is not None:
            return Preview(
                account_id, PreviewOutcome.REJECTED, decision.preview_rejection(), account_name=name
            )
        return _compare(account_id, name, prepared, decision, _current(decision, directory))


def _current(decision: Decision, directory: LiveDirectory) -> dict[str, Any] | None:
    """The Xero contact as it is now, to compare with. An unchanged Account is not looked up by
    the sync at all; the preview still shows how its contact differs (edited in Xero?)."""
    if decision.contact is None:
        return None
    contact = decision.contact
    if decision.verdict is Verdict.UNCHANGED:
        found = directory.by_id(contact.contact_id)
        contact = follow_merges(found, directory) if found is not None else contact
    return dict(contact.body) if contact.body is not None else None


def _compare(
    account_id: str,
    name: Any,
    prepared: PreparedContact,
    decision: Decision,
    existing: dict[str, Any] | None,
) -> Preview:
    new_values = flatten(prepared.xero_contact)
    old_values = flatten(existing or {})
    rows = [FieldChange(path, old_values.get(path), value) for path, value in new_values.items()]
    rows += _removed_people(prepared.xero_contact, existing or {})
    changes = [r for r in rows if r.changed]
    same = [r for r in rows if not r.changed]
    preview = Preview(
        account_id,
        PreviewOutcome.UPDATE,
        "",
        account_name=str(name) if name else None,
        xero_contact_id=(existing or {}).get("ContactID"),
        xero_contact_name=(existing or {}).get("Name"),
        changes=changes,
        same=same,
        warnings=list(prepared.warnings),
        skipped_by_hash=decision.verdict is Verdict.UNCHANGED,
    )
    _explain(preview, decision.verdict)
    return preview


def _explain(preview: Preview, verdict: Verdict) -> None:
    """The preview's outcome and message, from the sync's verdict and the differences."""
    changes = preview.changes
    if verdict is Verdict.CREATE:
        preview.outcome = PreviewOutcome.CREATE
        preview.message = "The next sync would create a new Xero contact with these values."
    elif preview.skipped_by_hash:
        preview.outcome = PreviewOutcome.UNCHANGED
        preview.message = (
            "Nothing in Zoho changed since the last sync, so the next sync would not call Xero."
            + (
                " Xero differs in the fields below (edited in Xero?); “Sync now” does not overwrite them "
                "until the Account changes in Zoho."
                if changes
                else ""
            )
        )
    elif verdict is Verdict.ADOPT:
        preview.outcome = PreviewOutcome.ADOPT
        preview.message = (
            f"Xero already has an active contact named “{preview.xero_contact_name}” with no Contact Code; "
            "the next sync would take it over for this Account and update it."
        )
    elif changes:
        preview.message = (
            f"The next sync would change {len(changes)} field{'s' if len(changes) != 1 else ''} in Xero."
        )
    else:
        preview.outcome = PreviewOutcome.UNCHANGED
        preview.message = "Xero already has every value this Account would send; a sync would change nothing."


# --- flattening Xero contacts into comparable paths -------------------------------------------


def flatten(contact: Mapping[str, Any]) -> dict[str, str]:
    """{"Name": "Acme", "Phones (MOBILE) › PhoneNumber": "+61…", "ContactPersons 1 › EmailAddress": …}.

    Only leaves with a value are kept, so an empty Xero field and an absent one compare equal.
    """
    out: dict[str, str] = {}
    for key, value in contact.items():
        _flatten_into(out, key, value, key)
    return out


def _flatten_into(out: dict[str, str], key: str, value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for child, child_value in value.items():
            _flatten_into(out, child, child_value, f"{path} › {child}")
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            label = _item_label(key, item, index)
            if isinstance(item, Mapping):
                for child, child_value in item.items():
                    if child == KEYED_LISTS.get(key):
                        continue  # the key is in the label already
                    _flatten_into(out, child, child_value, f"{label} › {child}")
            else:
                _flatten_into(out, key, item, label)
    else:
        text = _text(value)
        if text:
            out[path] = text


def _item_label(key: str, item: Any, index: int) -> str:
    type_field = KEYED_LISTS.get(key)
    if type_field and isinstance(item, Mapping) and item.get(type_field):
        return f"{key} ({item[type_field]})"
    return f"{key} {index}"


def _removed_people(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldChange]:
    """Xero replaces ContactPersons as a whole when they are sent: people past the new list go."""
    if "ContactPersons" not in new:
        return []
    kept = len(new.get("ContactPersons") or [])
    rows: list[FieldChange] = []
    for index, person in enumerate(old.get("ContactPersons") or [], start=1):
        if index <= kept or not isinstance(person, Mapping):
            continue
        who = " ".join(_text(person.get(k)) for k in ("FirstName", "LastName")).strip()
        rows.append(FieldChange(f"ContactPersons {index}", who or _text(person.get("EmailAddress")), None))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
