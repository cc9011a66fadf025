"""Finding, validating and caching the field map."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chalicelib.errors import FatalError
from chalicelib.mapping import FieldMap, FieldMapError, load_field_map, loader, resolve_map_path
from chalicelib.mapping.loader import BUNDLED_MAP, REPO_MAP


def write(tmp_path: Path, text: str, name: str = "map.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- The shipped map -------------------------------------------------------------------


def test_shipped_map_names_the_zoho_fields(field_map: FieldMap) -> None:
    assert field_map.version == 1
    assert (field_map.account_name_field, field_map.add_to_xero_field) == ("Account_Name", "Add_to_Xero")
    assert field_map.contact_account_field == "Account_Name"
    assert field_map.primary_contact_field == "Primary_Contact"
    assert field_map.include_in_emails_field == "Include_in_Emails"
    assert field_map.writeback.names() == [
        "Xero_ID",
        "Xero_Contact_URL",
        "Xero_Sync_Status",
        "Xero_Last_Synced",
        "Xero_Sync_Error",
    ]
    assert field_map.writeback.error_max_length == 2000
    group = field_map.writeback
    assert (group.xero_id, group.contact_url, group.status, group.last_synced, group.error) == (
        "Xero_ID",
        "Xero_Contact_URL",
        "Xero_Sync_Status",
        "Xero_Last_Synced",
        "Xero_Sync_Error",
    )


def test_account_fields_cover_control_writeback_and_mapped_fields(field_map: FieldMap) -> None:
    fields = field_map.account_fields()
    assert fields[0] == "id"
    assert len(fields) == len(set(fields))
    expected = {
        "Account_Name", "Add_to_Xero", "Account_Number", "Phone", "Fax",
        "Billing_Street", "Billing_City", "Billing_State", "Billing_Code", "Billing_Country",
        "Shipping_Street", "Shipping_City", "Shipping_State", "Shipping_Code", "Shipping_Country",
        "Default_Sales_Account", "Invoices_Due_Date_Day", "Invoices_Due_Date_Frequency",
        "Xero_ID", "Xero_Contact_URL", "Xero_Sync_Status", "Xero_Last_Synced", "Xero_Sync_Error",
    }  # fmt: skip
    assert set(fields) == expected | {"id"}
    # Not mapped on purpose (read-only in Xero), so not fetched either.
    assert "Website" not in fields
    assert "Sales_Discount" not in fields


def test_contact_fields_cover_control_and_mapped_fields(field_map: FieldMap) -> None:
    fields = field_map.contact_fields()
    assert fields[0] == "id"
    assert set(fields) == {
        "id", "First_Name", "Last_Name", "Email", "Mobile",
        "Account_Name", "Primary_Contact", "Include_in_Emails",
    }  # fmt: skip


def test_bundled_map_is_a_file_symlink_to_the_repo_map() -> None:
    # Chalice packages chalicelib/ only; it follows symlinked files, skips symlinked dirs.
    assert BUNDLED_MAP.parent.is_dir() and not BUNDLED_MAP.parent.is_symlink()
    link = Path(loader.__file__).parent / "maps" / "xero_contact.yaml"
    assert link.is_symlink()
    assert os.readlink(link) == "../../../mappings/xero_contact.yaml"
    assert link.resolve() == REPO_MAP.resolve()
    assert link.read_bytes() == REPO_MAP.read_bytes()


# --- Where the map comes from -----------------------------------------------------------


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, map_text: str) -> None:
    explicit = write(tmp_path, map_text, "explicit.yaml")
    configured = write(tmp_path, map_text, "configured.yaml")
    assert resolve_map_path() == BUNDLED_MAP
    monkeypatch.setenv("MAPPING_FILE", configured)  # read at call time, not at import
    assert resolve_map_path() == Path(configured)
    assert resolve_map_path(explicit) == Path(explicit)
    assert load_field_map().origin == configured
    assert load_field_map(explicit).origin == explicit


def test_falls_back_to_repo_map_when_bundled_copy_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "BUNDLED_MAP", tmp_path / "missing.yaml")
    assert resolve_map_path() == REPO_MAP
    assert load_field_map().origin == str(REPO_MAP)


def test_missing_configured_file_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAPPING_FILE", str(tmp_path / "typo.yaml"))
    with pytest.raises(FieldMapError, match=r"typo\.yaml cannot be read"):
        load_field_map()


def test_cached_per_path_until_the_file_changes(tmp_path: Path, map_text: str) -> None:
    path = write(tmp_path, map_text)
    first = load_field_map(path)
    assert load_field_map(path) is first
    Path(path).write_text(map_text.replace("max: 5", "max: 3"), encoding="utf-8")
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 1_000_000))
    second = load_field_map(path)
    assert second is not first
    assert second.xero_contact.fields["ContactPersons"].max_items == 3


# --- Malformed maps ------------------------------------------------------------------------

# (what to replace in the shipped map, with what, text the error must contain)
BROKEN = [
    ("version: 1", "version: 2", "version: 2 is not supported"),
    ("version: 1\n", "", "version: Field required"),
    ("    add_to_xero: Add_to_Xero", "    add_to_xer: Add_to_Xero", "zoho.accounts.add_to_xer: Extra inputs"),
    ("    add_to_xero: Add_to_Xero", "    add_to_xero: Add to Xero", "zoho.accounts.add_to_xero.field"),
    (
        "    sync_error_max_length: 2000",
        "    sync_error_max_length: 0",
        "zoho.write_back.sync_error_max_length",
    ),
    (
        "  EmailAddress: {from: primary.Email, direction: both}",
        "  EmailAdress: {from: primary.Email, direction: both}",
        "xero_contact.EmailAdress: Xero has no such",
    ),
    (
        "  EmailAddress: {from: primary.Email, direction: both}",
        "  EmailAdress: {from: primary.Email, direction: both}",
        "did you mean EmailAddress?",
    ),
    (
        "  EmailAddress: {from: primary.Email, direction: both}",
        "  Website: account.Website",
        "xero_contact.Website: Xero's API treats",
    ),
    (
        "  EmailAddress: {from: primary.Email, direction: both}",
        "  Discount: account.Sales_Discount",
        "xero_contact.Discount: Xero's API",
    ),
    (
        "- PhoneType: {value: DEFAULT}",
        "- PhoneType: {value: DEFALT}",
        "xero_contact.Phones[0].PhoneType.value: 'DEFALT' is not one of",
    ),
    (
        "PhoneNumber: {from: account.Phone, direction: both}",
        "PhoneNumber: {from: Phone, direction: both}",
        "xero_contact.Phones[0].PhoneNumber: 'Phone' is not",
    ),
    (
        "  EmailAddress: {from: primary.Email, direction: both}",
        "  EmailAddress: {from: contact.Email, direction: to_xero}",
        "only available inside a for_each",
    ),
    ("OFFOLLOWINGMONTH", "FOLLOWINGMONTH", "PaymentTerms.Sales.Type.lookup.of the following month"),
    ("type: integer", "type: string", "xero_contact.PaymentTerms.Sales.Day.type: Xero expects an integer"),
    (
        "{from: account.id, label: Record Id, direction: to_xero}",
        "{from: account.id, value: x, direction: to_xero}",
        "xero_contact.ContactNumber: give",
    ),
    (
        "{from: account.id, label: Record Id, direction: to_xero}",
        "{from: account.id, lable: x, direction: to_xero}",
        "ContactNumber.lable: Extra inputs",
    ),
    ("    max: 5", "    max: 6", "xero_contact.ContactPersons.max: Xero takes at most 5"),
    (
        "  Name: {from: account.Account_Name, required: true, direction: both}\n",
        "",
        "xero_contact.Name: missing",
    ),
    ("    for_each: other_contacts", "    for_each: everyone", "xero_contact.ContactPersons.for_each"),
    (
        "{from: primary.Email, direction: both}",
        "{from: primary.Email, direction: sideways}",
        "xero_contact.EmailAddress.direction: Input should be 'to_xero', 'to_zoho' or 'both'",
    ),
    (
        "{from: account.id, label: Record Id, direction: to_xero}",
        "{from: account.id, label: Record Id, direction: both}",
        "xero_contact.ContactNumber.direction: both is only possible for an Account field",
    ),
    (
        "{from: contact.Email, direction: to_xero}",
        "{from: contact.Email, direction: to_zoho}",
        "ContactPersons.item.EmailAddress.direction: to_zoho is only possible",
    ),
    (
        "- PhoneType: {value: DEFAULT}",
        "- PhoneType: {value: DEFAULT, direction: both}",
        "xero_contact.Phones[0].PhoneType.direction: both needs a Zoho field",
    ),
    (
        "type: integer, required: true, direction: to_xero}",
        "type: integer, required: true, direction: both}",
        "xero_contact.PaymentTerms.Sales.Day.direction: both is only possible for plain text fields",
    ),
    (
        "  AccountNumber: {from: account.Account_Number, direction: both}",
        "  AccountNumber: [1, 2]",
        "xero_contact.AccountNumber: expected",
    ),
    (
        "  AccountNumber: {from: account.Account_Number, direction: both}",
        "  AccountNumber: {from: account.Account_Number, direction: both}\n  Name: x",
        "line ",
    ),
    (
        "  AccountNumber: {from: account.Account_Number, direction: both}",
        "  AccountNumber: {from: account.Account_Number, direction: both}\n  Name: x",
        "twice",
    ),
    ("version: 1", "version: [1", "is not a valid field map: line"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN, ids=[b[2][:40] for b in BROKEN])
def test_malformed_map_names_the_bad_key(
    tmp_path: Path, map_text: str, old: str, new: str, expected: str
) -> None:
    assert old in map_text
    path = write(tmp_path, map_text.replace(old, new, 1))
    with pytest.raises(FieldMapError) as caught:
        load_field_map(path)
    assert expected in caught.value.message
    assert path in caught.value.message


def test_unmodified_map_from_tmp_path_loads(tmp_path: Path, map_text: str) -> None:
    # The counterpart of the cases above: the copy itself is fine.
    assert load_field_map(write(tmp_path, map_text)).version == 1


def test_map_errors_are_fatal_errors() -> None:
    # Nothing syncs until someone corrects the file: not retried, shown as Failed.
    assert issubclass(FieldMapError, FatalError)


def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FieldMapError, match="not a valid field map"):
        load_field_map(write(tmp_path, "- just\n- a list\n"))
