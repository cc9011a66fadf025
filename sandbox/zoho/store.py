"""The stand-in's records: Accounts and Contacts, held in memory.

Values are stored in a typed internal form (DateTimes as epoch seconds, lookups as the target
id) and turned into Zoho's wire format by `render`. Callers hold the app lock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from sandbox import seed_data

from .metadata import CRM_USER_ID, DISPLAY_FIELD, MODULES, USERS, FieldDef, user_ref
from .timefmt import format_datetime

FIRST_NEW_ID = 5725767001000000000  # ids for records created after the seed (19 digits)
DAY = 86400


class Store:
    def __init__(self) -> None:
        self.modules: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in MODULES}
        self._contacts_by_account: dict[str, set[str]] = {}
        self._next_id = FIRST_NEW_ID
        self.offset_minutes = 0
        self.deleted: dict[str, list[dict[str, Any]]] = {}  # per module, oldest first (deleted.py)

    # ---- identity and lookups -------------------------------------------------
    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def exists(self, module: str, record_id: str) -> bool:
        return record_id in self.modules.get(module, {})

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        return self.modules[module].get(record_id)

    def all(self, module: str) -> Iterator[dict[str, Any]]:
        return iter(self.modules[module].values())

    def contact_ids_of(self, account_id: str) -> list[str]:
        return sorted(self._contacts_by_account.get(account_id, ()))

    def clear(self) -> None:
        for records in self.modules.values():
            records.clear()
        self._contacts_by_account.clear()
        self.deleted.clear()
        self._next_id = FIRST_NEW_ID

    # ---- writes -----------------------------------------------------------------
    def insert(self, module: str, values: dict[str, Any], now: float, user_id: str) -> dict[str, Any]:
        """Add a record from already-checked internal values."""
        record: dict[str, Any] = {name: None for name in MODULES[module]}
        for name, field in MODULES[module].items():
            if field.data_type == "boolean":
                record[name] = False
        record.update(values)
        record["id"] = record.get("id") or self.new_id()
        record.setdefault("Owner", CRM_USER_ID)
        record["Owner"] = record["Owner"] or CRM_USER_ID
        stamp = int(now)
        for key in ("Created_Time", "Modified_Time"):
            record[key] = record.get(key) or stamp
        for key in ("Created_By", "Modified_By"):
            record[key] = record.get(key) or user_id
        self.modules[module][record["id"]] = record
        self._index(module, record, None)
        return record

    def update(
        self, module: str, record_id: str, values: dict[str, Any], now: float, user_id: str
    ) -> dict[str, Any]:
        record = self.modules[module][record_id]
        old_account = record.get("Account_Name")
        record.update(values)
        record["Modified_Time"] = int(now)
        record["Modified_By"] = user_id
        self._index(module, record, old_account)
        return record

    def delete(
        self, module: str, record_id: str, now: float = 0.0, user_id: str = CRM_USER_ID, kind: str = "recycle"
    ) -> bool:
        """Remove a record; GET /{module}/deleted lists it afterwards (`kind` recycle or permanent)."""
        from .deleted import record_deletion

        record = self.modules[module].pop(record_id, None)
        if record is None:
            return False
        record_deletion(self, module, record, now, user_id, kind)
        if module == "Contacts":
            self._contacts_by_account.get(record.get("Account_Name") or "", set()).discard(record_id)
        else:
            # Contacts stay, their Account lookup is emptied.
            for contact_id in self._contacts_by_account.pop(record_id, set()):
                self.modules["Contacts"][contact_id]["Account_Name"] = None
        return True

    def _index(self, module: str, record: dict[str, Any], old_account: str | None) -> None:
        if module != "Contacts":
            return
        if old_account:
            self._contacts_by_account.get(old_account, set()).discard(record["id"])
        if record.get("Account_Name"):
            self._contacts_by_account.setdefault(record["Account_Name"], set()).add(record["id"])

    # ---- reading ----------------------------------------------------------------
    def display_name(self, module: str, record_id: str) -> Any:
        target = self.modules[module].get(record_id)
        if target is None:
            return None
        return self.value(module, target, DISPLAY_FIELD[module])

    def value(self, module: str, record: dict[str, Any], name: str) -> Any:
        """Internal value, computing read-only derived fields."""
        if module == "Contacts" and name == "Full_Name":
            parts = [record.get("First_Name"), record.get("Last_Name")]
            return " ".join(p for p in parts if p) or None
        return record.get(name)

    def render_value(self, module: str, field: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        if field.data_type == "datetime":
            return format_datetime(value, self.offset_minutes)
        if field.data_type == "ownerlookup":
            return user_ref(value) if value in USERS else {"name": None, "id": value}
        if field.data_type == "lookup":
            return {"name": self.display_name(field.lookup_module or "", value), "id": value}
        return copy.deepcopy(value)

    def render(
        self, module: str, record: dict[str, Any], fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Zoho's wire form of a record; `fields` limits it (the id always comes back)."""
        defs = MODULES[module]
        names = list(defs) if fields is None else ["id", *[f for f in fields if f != "id"]]
        out = {
            name: self.render_value(module, defs[name], self.value(module, record, name)) for name in names
        }
        if fields is None:
            out["Tag"] = []
        return out

    # ---- seed -------------------------------------------------------------------
    def load_seed(self, now: float) -> None:
        """The shared sample data: `expect` is dropped, `Account_Id` becomes the lookup."""
        count = len(seed_data.ZOHO_ACCOUNTS)
        for n, account in enumerate(seed_data.ZOHO_ACCOUNTS):
            values = {k: v for k, v in account.items() if k != "expect"}
            created = now - (count + 30 - n) * DAY
            values.update(Created_Time=int(created), Modified_Time=int(created + 3600 * (n + 1)))
            self.insert("Accounts", values, now, CRM_USER_ID)
        for n, contact in enumerate(seed_data.ZOHO_CONTACTS):
            values = {k: v for k, v in contact.items() if k not in ("expect", "Account_Id")}
            values["Account_Name"] = contact.get("Account_Id")
            created = now - (count + 29) * DAY + n * 1800
            values.update(Created_Time=int(created), Modified_Time=int(created + 600))
            self.insert("Contacts", values, now, CRM_USER_ID)
