"""The fixed part of a field map file (its `version`, `zoho:` section and the shape of
each value under `xero_contact:`), checked by pydantic. `parser.py` turns it into a `FieldMap`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.mapping.fieldmap import derive_label

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _api_name(value: str) -> str:
    if not _API_NAME.match(value) and value != "id":
        raise ValueError(f"{value!r} is not a Zoho field API name (letters, digits and _, e.g. Add_to_Xero)")
    return value


ApiName = Annotated[str, AfterValidator(_api_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ZohoField(_Strict):
    field: ApiName
    label: str | None = Field(default=None, min_length=1)

    def display(self) -> str:
        return self.label or derive_label(self.field)


def _field_ref(value: Any) -> Any:
    # A control field is written either as its API name or as {field, label}.
    return {"field": value} if isinstance(value, str) else value


FieldRef = Annotated[ZohoField, BeforeValidator(_field_ref)]


class AccountControls(_Strict):
    name: FieldRef
    add_to_xero: FieldRef


class ContactControls(_Strict):
    account_lookup: FieldRef
    primary_contact: FieldRef
    include_in_emails: FieldRef
    first_name: FieldRef
    last_name: FieldRef


class WriteBack(_Strict):
    xero_id: FieldRef
    xero_contact_url: FieldRef
    sync_status: FieldRef
    last_synced: FieldRef
    sync_error: FieldRef
    # A Zoho multi-line text field holds 2000 characters by default (up to 32000).
    sync_error_max_length: int = Field(ge=20, le=32000)


class ZohoSection(_Strict):
    accounts: AccountControls
    contacts: ContactControls
    write_back: WriteBack


class MapFile(_Strict):
    version: int
    zoho: ZohoSection
    xero_contact: dict[str, Any]


class ValueModel(_Strict):
    from_: str | None = Field(default=None, alias="from")
    value: Any = None
    type: Literal["string", "number", "integer", "boolean"] | None = None
    lookup: dict[str, str | int | float | bool] | None = None
    default: str | int | float | bool | None = None
    label: str | None = Field(default=None, min_length=1)
    required: bool = False
    # Which way the value flows: Zoho → Xero, Xero → Zoho, or both (mapping/directions.py).
    direction: Literal["to_xero", "to_zoho", "both"] = "to_xero"


class RepeatModel(_Strict):
    for_each: Literal["other_contacts"]
    max: int | None = Field(default=None, ge=1)
    item: dict[str, Any]
