"""Every rejection says what to fix and how: it names the field (or record) and an action.

A rejected Account shows its message on the Account in Zoho, in the button's answer, in the
portal and in a run's problems; a finance user must be able to act on it without asking
anyone. Two checks:

- each kind of rejection, produced by the real code, names its field and says what to do;
- every place in chalicelib/ that raises a rejection with literal text is found by reading
  the source, and that text must say what to do as well; a rejection built any other way
  must come from a builder the first check covers. A new rejection cannot slip past both.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, load_field_map, prepare_contact
from chalicelib.services.sync.messages import (
    NO_ACCOUNT,
    archived_message,
    claimed_in_run_message,
    contact_not_found_message,
    erasure_message,
    name_conflict_message,
    not_found_message,
    rejection_from_xero,
)
from tests.unit.mapping.helpers import make_contact, zoho_account, zoho_contacts

CHALICELIB = Path(__file__).resolve().parents[3] / "chalicelib"

# The imperative verbs a message may tell the user to do something with.
ACTIONS = {
    "tick",
    "untick",
    "fill",
    "correct",
    "shorten",
    "rename",
    "restore",
    "resolve",
    "fix",
    "choose",
    "set",
    "open",
    "clear",
    "merge",
    "check",
}
# Rejections whose text is not a literal at the raise: each is built by something covered below.
BUILT_ELSEWHERE = {
    "RejectedError(' '.join(parts))",  # Problems.raise_if_any: the value problems above
    "ConflictError(messages.name_conflict_message(name, same.number, owner))",
    "RejectedError(messages.archived_message(contact.name))",
    "RejectedError(messages.erasure_message(contact.name))",
    "ConflictError(claimed_in_run_message(owner))",
    "RejectedError(messages.not_found_message(request.account_id))",
    "RejectedError(not_found_message(item.account_id))",
    "RejectedError(messages.contact_not_found_message(contact_id))",
    "RejectedError(messages.NO_ACCOUNT)",
}


def actions_in(message: str) -> list[str]:
    """The imperative verbs that open a clause: "Tick …", "…, then click …", "To …, tick …"."""
    found = []
    for clause in re.split(r"[.:;]\s+|,\s+|\s+(?:or|then|and)\s+", message):
        words = clause.strip("“”\"'( ").split()
        if words and words[0].lower() in ACTIONS:
            found.append(words[0].lower())
    return found


def assert_says_what_to_do(message: str, field: str) -> None:
    assert field.casefold() in message.casefold(), f"does not name {field!r}: {message}"
    assert actions_in(message), f"says no action to take: {message}"
    assert message.rstrip().endswith((".", ".”")), f"is not a finished sentence: {message}"


def rejection(account: dict[str, Any], contacts: list[dict[str, Any]], field_map: FieldMap) -> str:
    with pytest.raises(RejectedError) as caught:
        prepare_contact(account, contacts, field_map)
    return caught.value.message


def extended(tmp_path: Path, map_text: str, old: str = "", new: str = "", extra: str = "") -> FieldMap:
    path = tmp_path / "map.yaml"
    path.write_text(map_text.replace(old, new) + extra, encoding="utf-8")
    return load_field_map(str(path))


# --- each kind of rejection, from the real code ----------------------------------------------


def test_add_to_xero_not_ticked(field_map: FieldMap) -> None:
    message = rejection(zoho_account(4), [], field_map)
    assert_says_what_to_do(message, "Add to Xero")
    assert "tick" in actions_in(message)


def test_account_name_empty(field_map: FieldMap) -> None:
    message = rejection(zoho_account(3), [], field_map)
    assert (
        message
        == "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again."
    )
    assert_says_what_to_do(message, "Account Name")


def test_no_primary_contact_among_several(field_map: FieldMap) -> None:
    assert_says_what_to_do(rejection(zoho_account(5), zoho_contacts(5), field_map), "Primary Contact")


def test_two_primary_contacts(field_map: FieldMap) -> None:
    message = rejection(zoho_account(6), zoho_contacts(6), field_map)
    assert_says_what_to_do(message, "Primary Contact")
    assert "untick" in actions_in(message)


def test_a_value_too_long_for_xero(field_map: FieldMap) -> None:
    assert_says_what_to_do(rejection(zoho_account(10), [], field_map), "Account Name")


def test_several_values_too_long(field_map: FieldMap) -> None:
    account = zoho_account(12) | {"Account_Name": "N" * 300, "Billing_City": "C" * 300}
    message = rejection(account, [], field_map)
    assert_says_what_to_do(message, "Billing City")


def test_an_e_mail_xero_refuses(field_map: FieldMap) -> None:
    assert_says_what_to_do(rejection(zoho_account(11), zoho_contacts(11), field_map), "e-mail")


def test_another_contacts_e_mail_xero_refuses(field_map: FieldMap) -> None:
    account = zoho_account(12)
    contacts = [
        make_contact(1, account, "Ann", "Lee", Primary_Contact=True),
        make_contact(2, account, "Bo", "Ray", Email="bo@"),
    ]
    assert_says_what_to_do(rejection(account, contacts, field_map), "e-mail")


def test_a_value_that_is_not_a_number(field_map: FieldMap) -> None:
    account = zoho_account(1) | {"Invoices_Due_Date_Day": "soon"}
    assert_says_what_to_do(rejection(account, [], field_map), "Invoices Due Date Day")


def test_a_value_with_no_match_in_xero(field_map: FieldMap) -> None:
    account = zoho_account(1) | {"Invoices_Due_Date_Frequency": "weekly"}
    assert_says_what_to_do(rejection(account, [], field_map), "Invoices Due Date Frequency")


def test_a_value_that_goes_with_another(field_map: FieldMap) -> None:
    account = zoho_account(1) | {"Invoices_Due_Date_Frequency": None}
    assert_says_what_to_do(rejection(account, [], field_map), "Invoices Due Date Frequency")


def test_a_value_outside_xeros_list(tmp_path: Path, map_text: str) -> None:
    fm = extended(tmp_path, map_text, extra="  SalesDefaultLineAmountType: account.Tax_Mode\n")
    assert_says_what_to_do(rejection(zoho_account(12) | {"Tax_Mode": "GROSS"}, [], fm), "Tax Mode")


@pytest.mark.parametrize("scope", ["account", "primary"])
def test_a_required_value_that_is_empty(tmp_path: Path, map_text: str, scope: str) -> None:
    fm = extended(
        tmp_path,
        map_text,
        "  AccountNumber: {from: account.Account_Number, direction: both}\n",
        f"  AccountNumber: {{from: {scope}.Title, required: true}}\n",
    )
    account = zoho_account(12)
    contacts = [make_contact(1, account, "Ann", "Lee", Title=None)]
    message = rejection(account, contacts, fm)
    assert_says_what_to_do(message, "Title")
    assert ("on the Account" in message) == (scope == "account")


@pytest.mark.parametrize(("number", "linked"), [("CUST-0042", None), (None, "5725767000000400099")])
def test_a_name_xero_already_has(number: str | None, linked: str | None) -> None:
    assert_says_what_to_do(name_conflict_message("Greenleaf Organics", number, linked), "Rename the Account")


def test_an_account_zoho_no_longer_has() -> None:
    assert_says_what_to_do(not_found_message("5725767000000400099"), "Account 5725767000000400099")


def test_a_contact_zoho_no_longer_has() -> None:
    assert_says_what_to_do(contact_not_found_message("5725767000000500099"), "Contact 5725767000000500099")


def test_a_contact_with_no_account() -> None:
    assert_says_what_to_do(NO_ACCOUNT, "Account Name")
    assert "set" in actions_in(NO_ACCOUNT)


@pytest.mark.parametrize("preview", [False, True])
def test_a_xero_contact_that_is_archived(preview: bool) -> None:
    message = archived_message("Juniper Legal", preview=preview)
    assert_says_what_to_do(message, "Juniper Legal")
    assert "restore" in actions_in(message)


def test_a_xero_contact_with_a_data_erasure_request() -> None:
    message = erasure_message("Juniper Legal")
    assert_says_what_to_do(message, "data-erasure request")
    assert "resolve" in actions_in(message)


def test_two_accounts_of_one_run_on_one_xero_contact() -> None:
    assert_says_what_to_do(claimed_in_run_message("5725767000000400099"), "Zoho id 5725767000000400099")


@pytest.mark.parametrize(
    ("errors", "field"),
    [
        (["The contact name Greenleaf is already assigned to another contact."], "Rename the Account"),
        (["Website must be a valid URL"], "website"),
        (["Phone number is too long."], "Phone number"),
    ],
)
def test_what_xero_refuses(errors: list[str], field: str, field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(12), [], field_map)
    message = rejection_from_xero(errors, prepared.xero_contact.get("Name")).message
    assert_says_what_to_do(message, field)


# --- every rejection in the source ----------------------------------------------------------


def rejection_sites() -> list[tuple[str, int, ast.Call]]:
    sites = []
    for path in sorted(CHALICELIB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("RejectedError", "ConflictError")
                and node.args
            ):
                sites.append((str(path.relative_to(CHALICELIB.parent)), node.lineno, node))
    return sites


def literal_text(node: ast.expr) -> str | None:
    """The words of a str or f-string argument, each {…} as "X"; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
    return None


def test_the_source_has_the_rejections_this_file_knows() -> None:
    assert len(rejection_sites()) >= 15  # the scan works (it finds them all, not none)


@pytest.mark.parametrize(
    ("where", "line", "call"), [pytest.param(*site, id=f"{site[0]}:{site[1]}") for site in rejection_sites()]
)
def test_every_rejection_in_the_source_says_what_to_do(where: str, line: int, call: ast.Call) -> None:
    text = literal_text(call.args[0])
    if text is None:
        source = ast.unparse(ast.Call(func=call.func, args=call.args, keywords=[]))
        assert source in BUILT_ELSEWHERE, (
            f"{where}:{line} builds a rejection this test does not cover: {source}"
        )
        return
    assert actions_in(text), f"{where}:{line} says no action to take: {text}"
    assert text.rstrip().endswith("."), f"{where}:{line} is not a finished sentence: {text}"
