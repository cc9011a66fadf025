"""One organisation's contacts: storage, Xero's validation rules, and rendering.

Messages quoted from real Xero responses are marked "(Xero)"; the others are the sandbox's
wording for rules Xero enforces but whose exact text we could not confirm (see README).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.specs.xero_spec import max_lengths
from sandbox.xero.wire import EMPTY_GUID, ms_date, new_guid

ACTIVE, ARCHIVED = "ACTIVE", "ARCHIVED"
MAX_CONTACT_PERSONS = 5
MAX_HISTORY = 500  # history records kept per contact (the oldest go first; a memory bound)
ADDRESS_SLOTS = ("POBOX", "STREET")  # what GET returns even when empty
PHONE_SLOTS = ("DEFAULT", "DDI", "FAX", "MOBILE")

# Scalars a client may set through PUT/POST.
WRITABLE_SCALARS = (
    "ContactNumber", "AccountNumber", "ContactStatus", "Name", "FirstName", "LastName",
    "CompanyNumber", "EmailAddress", "BankAccountDetails", "TaxNumber", "TaxNumberType",
    "AccountsReceivableTaxType", "AccountsPayableTaxType", "SalesDefaultLineAmountType",
    "PurchasesDefaultLineAmountType", "DefaultCurrency", "XeroNetworkKey", "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode", "TrackingCategoryName", "TrackingCategoryOption",
)  # fmt: skip
# Structures a client may set; each replaces the stored value wholesale.
WRITABLE_OBJECTS = (
    "ContactPersons", "PaymentTerms", "BrandingTheme", "BatchPayments",
    "SalesTrackingCategories", "PurchasesTrackingCategories",
)  # fmt: skip
# Xero's output order (keys missing from a contact are simply skipped).
RENDER_ORDER = (
    "ContactID", "MergedToContactID", "ContactNumber", "AccountNumber", "ContactStatus", "Name",
    "FirstName", "LastName", "CompanyNumber", "EmailAddress", "BankAccountDetails", "TaxNumber",
    "TaxNumberType", "AccountsReceivableTaxType", "AccountsPayableTaxType", "Addresses", "Phones",
    "UpdatedDateUTC", "ContactGroups", "IsSupplier", "IsCustomer", "SalesDefaultLineAmountType",
    "PurchasesDefaultLineAmountType", "DefaultCurrency", "Website", "XeroNetworkKey", "BrandingTheme",
    "BatchPayments", "Discount", "Balances", "SalesDefaultAccountCode", "PurchasesDefaultAccountCode",
    "SalesTrackingCategories", "PurchasesTrackingCategories", "TrackingCategoryName",
    "TrackingCategoryOption", "PaymentTerms", "ContactPersons", "HasAttachments", "HasValidationErrors",
)  # fmt: skip
FULL_DEFAULTS: dict[str, Any] = {
    "ContactGroups": [], "IsSupplier": False, "IsCustomer": False, "SalesTrackingCategories": [],
    "PurchasesTrackingCategories": [], "ContactPersons": [], "HasAttachments": False,
    "HasValidationErrors": False,
}  # fmt: skip
# The spec: these are "only returned when using paging or when fetching a contact by
# ContactId or ContactNumber"; the notes add ContactPersons and PaymentTerms.
UNPAGED_OMITS = frozenset(
    {"MergedToContactID", "ContactPersons", "PaymentTerms", "SalesDefaultLineAmountType",
     "PurchasesDefaultLineAmountType"}
)  # fmt: skip
SUMMARY_OMITS = frozenset(
    {"Addresses", "Balances", "ContactGroups", "ContactPersons", "IsCustomer", "IsSupplier",
     "SalesDefaultAccountCode", "PurchasesDefaultAccountCode", "SalesTrackingCategories",
     "PurchasesTrackingCategories", "TrackingCategoryName", "TrackingCategoryOption", "PaymentTerms"}
)  # fmt: skip

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)

MSG_NAME_EMPTY = "Contact Name cannot be empty."  # (Xero)
MSG_EMAIL = "Email address must be valid."  # (Xero)
MSG_WEBSITE = "Website must be valid."  # (Xero)
MSG_ARCHIVED = (  # (Xero)
    "The specified contact details matched an archived contact. "
    "Archived contacts cannot currently be edited via the API."
)
MSG_ARCHIVED_UI = "This contact is archived: restore it (ContactStatus ACTIVE) before editing it."  # sandbox
MSG_PERSONS = f"A contact can have a maximum of {MAX_CONTACT_PERSONS} contact persons."


def msg_name_taken(name: str) -> str:  # (Xero, spec 400 example)
    return (
        f"The contact name {name} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    )


def msg_number_taken(number: str) -> str:  # (Xero, community thread in notes §2)
    return (
        f"The contact number {number} is already assigned to another contact. "
        "The contact number must be unique across all contacts."
    )


def msg_too_long(label: str, limit: int) -> str:
    return f"{label} must not be more than {limit} characters long."


def msg_unknown_id(contact_id: str) -> str:
    return f"The contact with ContactID {contact_id} could not be found."


@dataclass
class Record:
    """A stored contact. `data` holds Xero-named fields except Addresses/Phones/UpdatedDateUTC."""

    id: str
    data: dict[str, Any]
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    phones: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: float = 0.0

    @property
    def status(self) -> str:
        return str(self.data.get("ContactStatus") or ACTIVE)

    @property
    def active(self) -> bool:
        return self.status != ARCHIVED

    def value(self, name: str) -> Any:
        """Field value as `where`/`order` see it."""
        if name == "ContactID":
            return self.id
        if name == "UpdatedDateUTC":
            return self.updated
        if name == "ContactStatus":
            return self.status
        if isinstance(FULL_DEFAULTS.get(name), bool):  # IsSupplier & co. always read as a boolean
            return self.data.get(name, FULL_DEFAULTS[name])
        return self.data.get(name)


@dataclass
class Outcome:
    """The verdict on one element of a PUT/POST batch."""

    ok: bool
    contact: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    created: bool = False  # a new contact (webhook CREATE) rather than an update (UPDATE)
    changed: list[str] = field(default_factory=list)  # fields whose rendered value changed


def name_key(name: Any) -> str:
    return str(name or "").strip().casefold()


class ContactBook:
    """All contacts of one tenant. Callers hold the sandbox lock."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}  # by lower-case ContactID
        # Indexes keep name/number checks O(1) for benchmark-sized books (tens of thousands).
        self._by_number: dict[str, str] = {}
        self._by_name: dict[str, set[str]] = {}
        self.history: dict[str, deque[dict[str, Any]]] = {}  # by ContactID, oldest first

    # --- lookups ---------------------------------------------------------------

    def get(self, contact_id: str) -> Record | None:
        return self.records.get((contact_id or "").lower())

    def by_number(self, number: str) -> Record | None:
        # ContactNumber is matched exactly (it is not one of Xero's case-insensitive optimised fields).
        return self.records.get(self._by_number.get(number, ""))

    def active_named(self, name: Any, exclude: Record | None = None) -> Record | None:
        candidates = (self.records[i] for i in sorted(self._by_name.get(name_key(name), ())))
        return next((r for r in candidates if r.active and r is not exclude), None)

    def _store(self, record: Record) -> None:
        """(Re)insert a record and its index entries; call `_forget` first if it changed."""
        self.records[record.id] = record
        if record.data.get("ContactNumber"):
            self._by_number[record.data["ContactNumber"]] = record.id
        self._by_name.setdefault(name_key(record.data.get("Name")), set()).add(record.id)

    def _forget(self, record: Record) -> None:
        number = record.data.get("ContactNumber")
        if number and self._by_number.get(number) == record.id:
            del self._by_number[number]
        self._by_name.get(name_key(record.data.get("Name")), set()).discard(record.id)

    def ordered(self) -> list[Record]:
        """Xero's default order: UpdatedDateUTC ASC, then ContactID ASC."""
        return sorted(self.records.values(), key=lambda r: (r.updated, r.id))

    # --- raw writes (admin API, seeding) -------------------------------------

    def put_raw(self, contact: dict[str, Any], now: float) -> Record:
        """Insert or overwrite a contact exactly as given, bypassing every rule."""
        data = {
            k: v
            for k, v in contact.items()
            if k not in ("ContactID", "Addresses", "Phones", "UpdatedDateUTC")
        }
        data.setdefault("ContactStatus", ACTIVE)
        record = Record(str(contact.get("ContactID") or new_guid()).lower(), data)
        record.addresses = {a.get("AddressType", "POBOX"): dict(a) for a in contact.get("Addresses") or []}
        record.phones = {p.get("PhoneType", "DEFAULT"): dict(p) for p in contact.get("Phones") or []}
        record.updated = _parse_ms_date(contact.get("UpdatedDateUTC")) or now
        old = self.records.get(record.id)
        if old:
            self._forget(old)
        self._store(record)
        return record

    # --- API writes ------------------------------------------------------------

    def save(
        self,
        element: dict[str, Any],
        *,
        create_only: bool,
        now: float,
        forced_id: str | None = None,
        as_user: bool = False,
    ) -> Outcome:
        """Create or update one element, applying Xero's rules; nothing is stored on error.

        `as_user`: an edit in Xero's UI, which may set Website and is not blocked by a stored one."""
        target, errors = self._resolve(element, create_only=create_only, forced_id=forced_id)
        if not errors:
            errors = (
                self._validate_update(target, element, as_user=as_user)
                if target
                else self._validate_create(element)
            )
        if errors:
            return Outcome(False, _echo(element, target), errors)
        before = render(target, "full") if target else {}
        record = target or Record(new_guid(), {"ContactStatus": ACTIVE})
        self._forget(record)
        _apply(record, element)
        if as_user and "Website" in element:
            _set_scalar(record, "Website", element["Website"])
        record.updated = now
        self._store(record)
        after = render(record, "full")
        changed = sorted(
            k for k in set(before) | set(after) if k != "UpdatedDateUTC" and before.get(k) != after.get(k)
        )
        return Outcome(True, after, created=target is None, changed=changed)

    # --- history & notes -------------------------------------------------------

    def add_history(
        self, contact_id: str, changes: str, details: str, user: str, now: float
    ) -> dict[str, Any]:
        """Append a history record (newest kept; at most MAX_HISTORY per contact)."""
        moment = datetime.fromtimestamp(now, UTC)
        entry = {
            "Changes": changes,
            "DateUTCString": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "DateUTC": ms_date(now),
            "User": user,
            "Details": details,
        }
        self.history.setdefault(contact_id.lower(), deque(maxlen=MAX_HISTORY)).append(entry)
        return entry

    def history_of(self, contact_id: str) -> list[dict[str, Any]]:
        """History and notes, newest first (as GET .../History lists them)."""
        return [dict(e) for e in reversed(self.history.get(contact_id.lower(), ()))]

    def _resolve(
        self, element: dict[str, Any], *, create_only: bool, forced_id: str | None
    ) -> tuple[Record | None, list[str]]:
        """PUT creates only (ContactID is assigned by Xero). POST matches ContactID, else ContactNumber."""
        if create_only:
            return None, []
        contact_id = forced_id or element.get("ContactID")
        if contact_id:
            record = self.get(str(contact_id))
            return (record, []) if record else (None, [msg_unknown_id(str(contact_id))])
        number = element.get("ContactNumber")
        return (self.by_number(number) if number else None), []

    def _validate_create(self, element: dict[str, Any]) -> list[str]:
        errors = field_errors(element)
        name = element.get("Name")
        if not str(name or "").strip():
            errors.insert(0, MSG_NAME_EMPTY)
        elif element.get("ContactStatus", ACTIVE) != ARCHIVED and self.active_named(name):
            errors.append(msg_name_taken(str(name)))
        number = element.get("ContactNumber")
        if number and self.by_number(number):
            errors.append(msg_number_taken(number))
        return errors

    def _validate_update(
        self, record: Record, element: dict[str, Any], *, as_user: bool = False
    ) -> list[str]:
        stored_site = record.data.get("Website")
        if not as_user and stored_site and not re.match(r"^https?://", str(stored_site), re.IGNORECASE):
            # A UI-entered website without a scheme blocks every API update (notes §2).
            return [MSG_WEBSITE]
        new_status = element.get("ContactStatus") or record.status
        if not record.active and new_status != ACTIVE:
            return [MSG_ARCHIVED_UI if as_user else MSG_ARCHIVED]
        errors = field_errors(element)
        if "Name" in element and not str(element.get("Name") or "").strip():
            errors.insert(0, MSG_NAME_EMPTY)
        name = element.get("Name") or record.data.get("Name")
        if new_status != ARCHIVED and str(name or "").strip() and self.active_named(name, exclude=record):
            errors.append(msg_name_taken(str(name)))
        number = element.get("ContactNumber")
        other = self.by_number(number) if number else None
        if other and other is not record:
            errors.append(msg_number_taken(number))
        return errors


def field_errors(element: dict[str, Any]) -> list[str]:
    """Rules that do not depend on other contacts: lengths (from the spec), e-mails, persons."""
    errors = _length_errors(element, "Contact")
    email = element.get("EmailAddress")
    if email and not EMAIL_RE.match(str(email)):
        errors.append(MSG_EMAIL)
    persons = element.get("ContactPersons") or []
    if isinstance(persons, list):
        if len(persons) > MAX_CONTACT_PERSONS:
            errors.append(MSG_PERSONS)
        if any(
            isinstance(p, dict) and p.get("EmailAddress") and not EMAIL_RE.match(str(p["EmailAddress"]))
            for p in persons
        ):
            errors.append(MSG_EMAIL)
    for address in _dicts(element.get("Addresses")):
        errors += _length_errors(address, "Address")
    for phone in _dicts(element.get("Phones")):
        errors += _length_errors(phone, "Phone")
    return list(dict.fromkeys(errors))  # Xero lists each message once


def _length_errors(item: dict[str, Any], schema: str) -> list[str]:
    limits = max_lengths(schema)
    return [
        msg_too_long(k, limits[k])
        for k, v in item.items()
        if k in limits and isinstance(v, str) and len(v) > limits[k]
    ]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _apply(record: Record, element: dict[str, Any]) -> None:
    """Merge an element into a record: omitted fields are kept, empty strings clear a field."""
    for key in WRITABLE_SCALARS:
        if key in element:
            _set_scalar(record, key, element[key])
    for key in WRITABLE_OBJECTS:
        if key in element:
            record.data[key] = element[key]
    # Addresses and phones replace the slot of their type; other slots are untouched.
    for address in _dicts(element.get("Addresses")):
        record.addresses[address.get("AddressType") or "POBOX"] = _compact(address)
    for phone in _dicts(element.get("Phones")):
        record.phones[phone.get("PhoneType") or "DEFAULT"] = _compact(phone)


def _set_scalar(record: Record, key: str, value: Any) -> None:
    if value in (None, ""):
        record.data.pop(key, None)
    else:
        record.data[key] = value


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v not in (None, "")}


def _echo(element: dict[str, Any], target: Record | None) -> dict[str, Any]:
    """A failed element as Xero returns it: the request data, flagged. A failed create carries the
    empty GUID (spec example), so a client that stores it is easy to catch."""
    echoed = {"ContactID": target.id if target else EMPTY_GUID}
    echoed.update({k: v for k, v in element.items() if k != "ContactID"})
    echoed["HasValidationErrors"] = True
    return echoed


def render(record: Record, mode: str = "full") -> dict[str, Any]:
    """Xero's JSON for a contact. mode: full (by id / paged), list (unpaged GET), summary."""
    values: dict[str, Any] = {
        **record.data,
        "ContactID": record.id,
        "UpdatedDateUTC": ms_date(record.updated),
    }
    values["Addresses"] = _slots(record.addresses, ADDRESS_SLOTS, "AddressType")
    values["Phones"] = _slots(record.phones, PHONE_SLOTS, "PhoneType")
    for key, default in FULL_DEFAULTS.items():
        values.setdefault(key, list(default) if isinstance(default, list) else default)
    omit = {"full": frozenset(), "list": UNPAGED_OMITS, "summary": SUMMARY_OMITS}[mode]
    ordered = {k: values[k] for k in RENDER_ORDER if k in values and k not in omit}
    extras = {k: v for k, v in values.items() if k not in ordered and k not in omit and k not in RENDER_ORDER}
    return {k: v for k, v in {**ordered, **extras}.items() if v is not None and v != ""}


def _slots(stored: dict[str, dict[str, Any]], slots: tuple[str, ...], key: str) -> list[dict[str, Any]]:
    items = [{key: slot, **{k: v for k, v in stored.get(slot, {}).items() if k != key}} for slot in slots]
    return items + [{key: t, **v} for t, v in stored.items() if t not in slots]


def _parse_ms_date(value: Any) -> float | None:
    match = re.match(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$", str(value or ""))
    return int(match.group(1)) / 1000 if match else None
