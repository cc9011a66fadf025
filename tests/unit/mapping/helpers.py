"""Shared test helpers: seed records in the shape Zoho really returns, and Xero's schema.

The seed data links contacts to accounts by `Account_Id` (the stand-in converts it);
real Zoho returns the lookup `Account_Name: {"name", "id"}`, which is what the mapping
layer reads, so the helpers build that shape.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sandbox import seed_data

SHARED_SPEC = Path("/work/shared/specs/xero/xero_accounting.yaml")


def zoho_account(n: int) -> dict[str, Any]:
    """Seed Account n as Zoho returns it (the seed's `expect` note removed)."""
    wanted = seed_data.account_id(n)
    account = next(a for a in seed_data.ZOHO_ACCOUNTS if a["id"] == wanted)
    return {k: copy.deepcopy(v) for k, v in account.items() if k != "expect"}


def zoho_contacts(n: int) -> list[dict[str, Any]]:
    """The seed Contacts of Account n, each with the real Account_Name lookup."""
    account = zoho_account(n)
    return [
        as_zoho_contact(contact, account)
        for contact in seed_data.ZOHO_CONTACTS
        if contact["Account_Id"] == account["id"]
    ]


def as_zoho_contact(contact: dict[str, Any], account: dict[str, Any]) -> dict[str, Any]:
    result = {k: copy.deepcopy(v) for k, v in contact.items() if k != "Account_Id"}
    result["Account_Name"] = {"name": account["Account_Name"], "id": account["id"]}
    return result


def make_contact(n: int, account: dict[str, Any], first: str, last: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": seed_data.contact_id(n),
        "First_Name": first,
        "Last_Name": last,
        "Email": f"{first.lower()}@example.com",
        "Mobile": None,
        "Primary_Contact": False,
        "Include_in_Emails": False,
        "Account_Name": {"name": account["Account_Name"], "id": account["id"]},
    }
    base.update(fields)
    return base


# --- Xero's official Contact schema ----------------------------------------------------


def xero_contact_errors(xero_contact: dict[str, Any]) -> list[str]:
    """Violations of Xero's Contact schema for a request carrying this one contact.

    Uses the shared contract helper (sandbox/specs/xero_spec.py) when present; it treats
    read-only fields (Website, Discount) and undefined properties as violations.
    """
    try:
        from sandbox.specs.xero_spec import contact_request_errors
    except ImportError:
        return _fallback_errors(xero_contact)
    return contact_request_errors({"Contacts": [xero_contact]})


@lru_cache(maxsize=1)
def xero_spec() -> dict[str, Any]:
    """The Xero accounting spec, parsed once per session (926 KB)."""
    try:
        from sandbox.specs.xero_spec import load_spec
    except ImportError:
        with SHARED_SPEC.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=yaml.CSafeLoader)
    return load_spec("accounting")


def _fallback_errors(xero_contact: dict[str, Any]) -> list[str]:
    from jsonschema import Draft4Validator

    root = {"$ref": "#/components/schemas/Contact", "components": xero_spec()["components"]}
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(root).iter_errors(xero_contact)
    ]
    props = xero_spec()["components"]["schemas"]["Contact"]["properties"]
    unwritable = [key for key in xero_contact if key not in props or props[key].get("readOnly")]
    return errors + [f"{key}: not a writable Contact field" for key in unwritable]
