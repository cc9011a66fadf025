"""The org's field layout: what `GET /crm/v8/settings/fields` describes and writes are checked
against.

Standard fields follow Zoho's Accounts/Contacts layouts; custom fields are the ones the sync
uses (Add_to_Xero, Xero_*, Primary_Contact, ...). Zoho's official SDK reads this metadata before
any record call, so the shapes follow the v8 Fields API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ID_PREFIX = "5725767000000"
CRM_USER_ID = "5725767000000200001"  # a person using the CRM (owner, admin edits)
API_USER_ID = "5725767000000200002"  # the user the OAuth tokens belong to (API writes)
USERS: dict[str, dict[str, str]] = {
    CRM_USER_ID: {"first_name": "Priya", "last_name": "Sharma", "email": "priya.sharma@sandbox-crm.example"},
    API_USER_ID: {"first_name": "Xero", "last_name": "Integration", "email": "xero.sync@sandbox-crm.example"},
}
MODULE_IDS = {"Accounts": "5725767000000002177", "Contacts": "5725767000000002179"}
JSON_TYPES = {
    "boolean": "boolean",
    "integer": "integer",
    "bigint": "string",
    "double": "double",
    "percent": "double",
    "currency": "double",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
}
TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "website", "picklist"})


@dataclass(frozen=True)
class FieldDef:
    api_name: str
    label: str
    data_type: str
    length: int | None = None
    read_only: bool = False
    mandatory: bool = False
    custom: bool = False
    lookup_module: str | None = None  # "Accounts" for lookups, "users" for owner lookups
    picklist: tuple[str, ...] = ()

    @property
    def json_type(self) -> str:
        return JSON_TYPES.get(self.data_type, "string")

    @property
    def is_lookup(self) -> bool:
        return self.data_type in ("lookup", "ownerlookup")


def _text(api: str, label: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(api, label, "text", length, **kw)


def _system_fields() -> list[FieldDef]:
    return [
        FieldDef("Created_By", "Created By", "ownerlookup", read_only=True, lookup_module="users"),
        FieldDef("Modified_By", "Modified By", "ownerlookup", read_only=True, lookup_module="users"),
        FieldDef("Created_Time", "Created Time", "datetime", read_only=True),
        FieldDef("Modified_Time", "Modified Time", "datetime", read_only=True),
    ]


def _address(prefix: str, label: str) -> list[FieldDef]:
    return [
        _text(f"{prefix}_Street", f"{label} Street", 250),
        _text(f"{prefix}_City", f"{label} City", 30),
        _text(f"{prefix}_State", f"{label} State", 30),
        _text(f"{prefix}_Code", f"{label} Code", 30),
        _text(f"{prefix}_Country", f"{label} Country", 30),
    ]


DUE_DATE_FREQUENCIES = (
    "day(s) after invoice date",
    "day(s) after the end of the invoice month",
    "of the current month",
    "of the following month",
)
SYNC_STATUSES = ("Synced", "Failed", "Rejected", "Archived in Xero", "Conflict")

ACCOUNT_FIELDS: list[FieldDef] = [
    FieldDef("id", "Record Id", "bigint", read_only=True),
    FieldDef("Owner", "Account Owner", "ownerlookup", mandatory=True, lookup_module="users"),
    _text("Account_Name", "Account Name", mandatory=True),
    _text("Account_Number", "Account Number", 40),
    FieldDef("Phone", "Phone", "phone", 30),
    FieldDef("Fax", "Fax", "phone", 30),
    FieldDef("Website", "Website", "website", 255),
    *_address("Billing", "Billing"),
    *_address("Shipping", "Shipping"),
    FieldDef("Description", "Description", "textarea", 32000),
    FieldDef("Add_to_Xero", "Add to Xero", "boolean", custom=True),
    _text("Default_Sales_Account", "Default Sales Account", 50, custom=True),
    FieldDef("Sales_Discount", "Sales Discount", "percent", 5, custom=True),
    FieldDef("Invoices_Due_Date_Day", "Invoices Due Date Day", "integer", 9, custom=True),
    FieldDef(
        "Invoices_Due_Date_Frequency",
        "Invoices Due Date Frequency",
        "picklist",
        custom=True,
        picklist=DUE_DATE_FREQUENCIES,
    ),
    _text("Xero_ID", "Xero ID", custom=True),
    FieldDef("Xero_Contact_URL", "Xero Contact URL", "website", 255, custom=True),
    FieldDef("Xero_Sync_Status", "Xero Sync Status", "picklist", custom=True, picklist=SYNC_STATUSES),
    FieldDef("Xero_Last_Synced", "Xero Last Synced", "datetime", custom=True),
    FieldDef("Xero_Sync_Error", "Xero Sync Error", "textarea", 2000, custom=True),
    *_system_fields(),
]

CONTACT_FIELDS: list[FieldDef] = [
    FieldDef("id", "Record Id", "bigint", read_only=True),
    FieldDef("Owner", "Contact Owner", "ownerlookup", mandatory=True, lookup_module="users"),
    _text("First_Name", "First Name", 40),
    _text("Last_Name", "Last Name", 80, mandatory=True),
    _text("Full_Name", "Contact Name", 100, read_only=True),
    FieldDef("Email", "Email", "email", 100),
    FieldDef("Phone", "Phone", "phone", 30),
    FieldDef("Mobile", "Mobile", "phone", 30),
    FieldDef("Fax", "Fax", "phone", 30),
    _text("Title", "Title", 100),
    FieldDef("Account_Name", "Account Name", "lookup", lookup_module="Accounts"),
    FieldDef("Description", "Description", "textarea", 32000),
    FieldDef("Primary_Contact", "Primary Contact", "boolean", custom=True),
    FieldDef("Include_in_Emails", "Include in Emails", "boolean", custom=True),
    *_system_fields(),
]

MODULES: dict[str, dict[str, FieldDef]] = {
    "Accounts": {f.api_name: f for f in ACCOUNT_FIELDS},
    "Contacts": {f.api_name: f for f in CONTACT_FIELDS},
}
USER_FIELDS: dict[str, FieldDef] = {
    name: FieldDef(name, name, "bigint" if name == "id" else "text")
    for name in ("id", "first_name", "last_name", "full_name", "email")
}
# The value a lookup to this module shows as its "name".
DISPLAY_FIELD = {"Accounts": "Account_Name", "Contacts": "Full_Name"}


def user_ref(user_id: str) -> dict[str, str]:
    user = USERS[user_id]
    return {"name": f"{user['first_name']} {user['last_name']}", "id": user_id, "email": user["email"]}


def _meta_id(module: str, index: int) -> str:
    return f"{MODULE_IDS[module][:-4]}{1000 + index:04d}"


def field_metadata(module: str) -> list[dict[str, Any]]:
    """The `fields` array of GET /crm/v8/settings/fields?module=..."""
    return [_field_json(module, i, f) for i, f in enumerate(MODULES[module].values()) if f.api_name != "id"]


def _field_json(module: str, index: int, field: FieldDef) -> dict[str, Any]:
    return {
        "api_name": field.api_name,
        "field_label": field.label,
        "display_label": field.label,
        "data_type": field.data_type,
        "json_type": field.json_type,
        "length": field.length,
        "id": _meta_id(module, index),
        "custom_field": field.custom,
        "read_only": field.read_only,
        "field_read_only": field.read_only,
        "system_mandatory": field.mandatory,
        "visible": True,
        "created_source": "crm" if field.custom else "default",
        "operation_type": {
            "web_update": not field.read_only,
            "api_create": not field.read_only,
            "web_create": not field.read_only,
            "api_update": not field.read_only,
        },
        "lookup": _lookup_json(module, index, field),
        "pick_list_values": _picklist_json(module, index, field),
    }


def _lookup_json(module: str, index: int, field: FieldDef) -> dict[str, Any]:
    if field.data_type != "lookup" or field.lookup_module is None:
        return {}
    return {
        "display_label": field.label,
        "api_name": field.api_name,
        "module": {"api_name": field.lookup_module, "id": MODULE_IDS[field.lookup_module]},
        "id": _meta_id(module, 500 + index),
    }


def _picklist_json(module: str, index: int, field: FieldDef) -> list[dict[str, Any]]:
    values = ("-None-", *field.picklist) if field.data_type == "picklist" else ()
    return [
        {
            "display_value": value,
            "actual_value": value,
            "sequence_number": seq,
            "id": _meta_id(module, 2000 + index * 20 + seq),
            "type": "used",
        }
        for seq, value in enumerate(values, start=1)
    ]


def related_list_metadata(module: str) -> list[dict[str, Any]]:
    """GET /crm/v8/settings/related_lists?module=...: only Accounts -> Contacts is modelled."""
    if module != "Accounts":
        return []
    return [
        {
            "id": "5725767000000002201",
            "sequence_number": "1",
            "display_label": "Contacts",
            "api_name": "Contacts",
            "module": {"api_name": "Contacts", "id": MODULE_IDS["Contacts"]},
            "name": "Contacts",
            "action": None,
            "href": "Accounts/{ACCOUNTID}/Contacts",
            "type": "default",
            "connectedmodule": None,
            "linkingmodule": None,
            "visible": True,
        }
    ]


def module_metadata() -> list[dict[str, Any]]:
    """GET /crm/v8/settings/modules (the SDK asks for it when auto-refreshing fields)."""
    return [
        {
            "api_name": name,
            "module_name": name,
            "singular_label": name[:-1],
            "plural_label": name,
            "id": MODULE_IDS[name],
            "api_supported": True,
            "generated_type": "default",
            "creatable": True,
            "editable": True,
            "viewable": True,
            "deletable": True,
        }
        for name in MODULES
    ]
