"""Zoho CRM -> Xero Contact mapping and validation: pure functions; the only I/O is
reading the map file.

Use: `field_map = load_field_map()`, then `prepare_contact(account, contacts, field_map)`
(a PreparedContact, or RejectedError saying what to fix in Zoho), and after writing to
Xero, `writeback_fields(field_map, status=..., ...)` for the Account update.
"""

from chalicelib.mapping.fieldmap import FieldMap
from chalicelib.mapping.loader import load_field_map, resolve_map_path
from chalicelib.mapping.parser import FieldMapError, parse_field_map
from chalicelib.mapping.transform import PreparedContact, content_hash, prepare_contact, writeback_fields
from chalicelib.mapping.validate import xero_contact_persons

__all__ = [
    "FieldMap",
    "FieldMapError",
    "PreparedContact",
    "content_hash",
    "load_field_map",
    "parse_field_map",
    "prepare_contact",
    "resolve_map_path",
    "writeback_fields",
    "xero_contact_persons",
]
