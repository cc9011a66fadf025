"""COQL without HTTP: tokenizer, parser and evaluator over a seeded store."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.zoho import coql
from sandbox.zoho.coql import CoqlError, Criterion, Logical
from sandbox.zoho.metadata import CRM_USER_ID
from sandbox.zoho.store import Store

NOW = 1_790_000_000.0  # 2026-09-21T13:33:20+00:00


@pytest.fixture
def store() -> Store:
    seeded = Store()
    seeded.load_seed(NOW)
    return seeded


def names(store: Store, where: str, **options: Any) -> list[str]:
    query = f"select Account_Name from Accounts where {where} limit 200"
    return [row["Account_Name"] for row in coql.run(query, store, **options).rows]


def error(store: Store, query: str, **options: Any) -> CoqlError:
    with pytest.raises(CoqlError) as caught:
        coql.run(query, store, **options)
    return caught.value


# ---- tokens and syntax ------------------------------------------------------------------


def test_strings_escape_quotes_by_doubling_them() -> None:
    tokens = coql.tokenize('where Last_Name = \'O\'\'Brien\' or x = "say ""hi"""')
    strings = [t.value for t in tokens if t.kind == "string"]
    assert strings == ["O'Brien", 'say "hi"']


def test_a_backslash_escape_is_a_syntax_error_with_position(store: Store) -> None:
    failure = error(store, "select Last_Name from Contacts where Last_Name = 'O\\'Brien'")
    assert failure.code == "SYNTAX_ERROR"
    assert set(failure.details) == {"line", "column", "near"}


def test_syntax_errors_point_at_the_offending_token(store: Store) -> None:
    failure = error(store, "select Account_Name\nfrom Accounts where Phone == '1'")
    assert failure.code == "SYNTAX_ERROR"
    assert failure.details == {"line": 2, "column": 28, "near": "="}  # the second "="


def test_where_is_mandatory(store: Store) -> None:
    for query in (
        "select id from Accounts",
        "select id from Accounts order by id limit 5",
        "select id from Nope",
    ):
        failure = error(store, query)
        assert (failure.code, failure.message, failure.details) == (
            "SYNTAX_ERROR",
            "missing clause",
            {"clause": "where"},
        )


@pytest.mark.parametrize(
    "query",
    [
        "select * from Accounts where id is not null",
        "select from Accounts where id is not null",
        "select id Accounts where id is not null",
        "select id from Accounts where",
        "select id from Accounts where (Phone is null",
        "select id from Accounts where Phone is null)",
        "select id from Accounts where Phone null",
        "select id from Accounts where Phone not = '1'",
        "select id from Accounts where id is not null limit",
        "select id from Accounts where id is not null limit 5 offset",
        "select id from Accounts where id is not null order Account_Name",
        "select count(id) from Accounts where id is not null",
        "select id from Accounts where Phone = '1' extra",
    ],
)
def test_malformed_queries_are_syntax_errors(store: Store, query: str) -> None:
    assert error(store, query).code == "SYNTAX_ERROR"


def test_more_than_two_criteria_must_be_grouped_in_pairs(store: Store) -> None:
    flat = "Add_to_Xero = true and Phone is null and Fax is null"
    assert error(store, f"select id from Accounts where {flat}").code == "SYNTAX_ERROR"
    grouped = "((Add_to_Xero = true and Phone is null) and Fax is null)"
    assert "Delta Logistics" in names(store, grouped)


def test_and_binds_tighter_than_or_when_grouping_is_lenient() -> None:
    tree = coql.parse(
        "select id from Accounts where a = '1' or b = '2' and c = '3'", strict_grouping=False
    ).where
    assert isinstance(tree, Logical) and tree.op == "or"
    assert isinstance(tree.left, Criterion) and isinstance(tree.right, Logical) and tree.right.op == "and"


def test_parentheses_override_precedence(store: Store) -> None:
    # (Coastal or Delta) and Add_to_Xero: Coastal is not in Xero, so only Delta is left.
    where = "((Account_Name = 'Coastal Surf Supplies' or Account_Name = 'Delta Logistics') and Add_to_Xero = true)"
    assert names(store, where) == ["Delta Logistics"]
    lenient = (
        "Account_Name = 'Coastal Surf Supplies' or Account_Name = 'Delta Logistics' and Add_to_Xero = true"
    )
    assert names(store, lenient, strict_grouping=False) == ["Coastal Surf Supplies", "Delta Logistics"]


# ---- operators --------------------------------------------------------------------------


def test_equality_and_inequality_ignore_case(store: Store) -> None:
    assert names(store, "Account_Name = 'delta logistics'") == ["Delta Logistics"]
    assert "Delta Logistics" not in names(store, "Account_Name != 'Delta Logistics'")


def test_comparisons_on_numbers_and_datetimes(store: Store) -> None:
    assert names(store, "Invoices_Due_Date_Day > 14") == ["Acme Widgets Pty Ltd"]
    assert names(store, "Invoices_Due_Date_Day <= 14") == ["Blue Mountain Bakery"]
    assert names(store, "(Invoices_Due_Date_Day >= 14 and Invoices_Due_Date_Day < 20)") == [
        "Blue Mountain Bakery"
    ]
    assert names(store, "Invoices_Due_Date_Day between 10 and 15") == ["Blue Mountain Bakery"]


def test_datetime_literals_in_any_offset_compare_instants(store: Store) -> None:
    acme = store.get("Accounts", "5725767000000400001")
    assert acme is not None
    modified = acme["Modified_Time"]
    utc = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(modified))
    ahead = time.strftime("%Y-%m-%dT%H:%M:%S+10:00", time.gmtime(modified + 36000))
    assert names(store, f"Modified_Time = '{utc}'") == ["Acme Widgets Pty Ltd"]
    assert names(store, f"Modified_Time = '{ahead}'") == ["Acme Widgets Pty Ltd"]
    assert "Acme Widgets Pty Ltd" not in names(store, f"Modified_Time > '{ahead}'")
    failure = error(store, "select id from Accounts where Modified_Time > '2026-01-01'")
    assert failure.details == {"column_name": "Modified_Time", "expected_data_type": "datetime"}


def test_in_and_not_in(store: Store) -> None:
    assert names(store, "Account_Name in ('Delta Logistics', 'juniper legal')") == [
        "Delta Logistics",
        "Juniper Legal",
    ]
    assert "Delta Logistics" not in names(store, "Account_Name not in ('Delta Logistics')")


def test_in_takes_at_most_50_values(store: Store) -> None:
    values = ", ".join(f"'{i}'" for i in range(51))
    failure = error(store, f"select id from Accounts where Account_Number in ({values})")
    assert failure.code == "LIMIT_EXCEEDED" and failure.details["limit"] == 50
    fifty = ", ".join(f"'{i}'" for i in range(50))
    assert coql.run(f"select id from Accounts where Account_Number in ({fifty})", store).rows == []


def test_is_null_and_is_not_null(store: Store) -> None:
    assert names(store, "Account_Name is null") == [None]
    assert None not in names(store, "Account_Name is not null")
    assert names(store, "Phone is not null") == ["Acme Widgets Pty Ltd", "Blue Mountain Bakery"]


def test_like_patterns(store: Store) -> None:
    assert names(store, "Account_Name like '%bakery%'") == ["Blue Mountain Bakery"]
    assert names(store, "Account_Name like 'Juniper%'") == ["Juniper Legal"]
    assert names(store, "Account_Name like '%Legal'") == ["Juniper Legal"]
    assert "Juniper Legal" not in names(store, "Account_Name not like '%Legal'")


def test_empty_fields_fail_every_criterion_but_is_null(store: Store) -> None:
    assert None not in names(store, "Account_Name != 'Acme Widgets Pty Ltd'")
    assert None not in names(store, "Account_Name not in ('x')")


def test_booleans_take_true_false_quoted_or_not_and_only_equals(store: Store) -> None:
    assert names(store, "Add_to_Xero = false") == ["Coastal Surf Supplies"]
    assert names(store, "Add_to_Xero = 'false'") == ["Coastal Surf Supplies"]
    failure = error(store, "select id from Accounts where Add_to_Xero != true")
    assert (failure.code, failure.details["operator"]) == ("INVALID_QUERY", "!=")


def test_lookups_compare_by_id_and_can_be_followed(store: Store) -> None:
    delta = "5725767000000400005"
    by_lookup = coql.run(f"select Last_Name from Contacts where Account_Name = '{delta}'", store).rows
    by_dot_id = coql.run(f"select Last_Name from Contacts where Account_Name.id = {delta}", store).rows
    assert (
        [r["Last_Name"] for r in by_lookup]
        == [r["Last_Name"] for r in by_dot_id]
        == ["Walsh", "Haddad", "Lee"]
    )
    joined = coql.run(
        "select Email from Contacts where Account_Name.Account_Name like 'Evergreen%'", store
    ).rows
    assert len(joined) == 2
    failure = error(store, "select id from Contacts where Account_Name = 'Delta Logistics'")
    assert failure.details == {"column_name": "Account_Name", "expected_data_type": "bigint"}


def test_selected_columns_and_lookup_shapes(store: Store) -> None:
    query = "select First_Name, Account_Name, Account_Name.id, Owner.email from Contacts where id = 5725767000000500002"
    [row] = coql.run(query, store).rows
    assert row == {
        "First_Name": "Bruno",
        "Account_Name": {"name": "Blue Mountain Bakery", "id": "5725767000000400002"},
        "Account_Name.id": "5725767000000400002",
        "Owner.email": store_owner_email(),
        "id": "5725767000000500002",
    }


def store_owner_email() -> str:
    from sandbox.zoho.metadata import USERS

    return USERS[CRM_USER_ID]["email"]


def test_multi_line_fields_cannot_be_filtered_on(store: Store) -> None:
    failure = error(store, "select id from Accounts where Xero_Sync_Error is null")
    assert (failure.code, failure.message) == ("INVALID_QUERY", "data type not supported")


def test_unknown_columns_and_modules(store: Store) -> None:
    failure = error(store, "select Nope from Accounts where id is not null")
    assert (failure.code, failure.details) == ("INVALID_QUERY", {"column_name": "Nope", "clause": "select"})
    assert error(store, "select id from Accounts where Nope = '1'").details["clause"] == "where"
    assert error(store, "select id from Leads where id is not null").code == "INVALID_MODULE"


# ---- order, limit, offset ---------------------------------------------------------------


def test_order_by_with_direction_and_empty_values_first(store: Store) -> None:
    ascending = names(store, "id is not null order by Account_Name asc")
    assert ascending[0] is None and ascending[1:] == sorted(ascending[1:], key=str.casefold)
    descending = names(store, "id is not null order by Account_Name desc")
    assert descending == list(reversed(ascending))


def test_limit_offset_and_the_mysql_form(store: Store) -> None:
    everything = coql.run("select id from Accounts where id is not null order by id", store)
    ids = [r["id"] for r in everything.rows]
    page = coql.run("select id from Accounts where id is not null order by id limit 3 offset 2", store)
    same = coql.run("select id from Accounts where id is not null order by id limit 2, 3", store)
    assert [r["id"] for r in page.rows] == [r["id"] for r in same.rows] == ids[2:5]
    assert page.more_records is True
    last = coql.run("select id from Accounts where id is not null order by id limit 3 offset 12", store)
    assert len(last.rows) == 2 and last.more_records is False


def test_limits(store: Store) -> None:
    assert error(store, "select id from Accounts where id is not null limit 2001").code == "LIMIT_EXCEEDED"
    ceiling = error(store, "select id from Accounts where id is not null limit 98001, 2000")
    assert (ceiling.code, ceiling.details) == ("LIMIT_EXCEEDED", {"limit": 100000})
    coql.run("select id from Accounts where id is not null limit 98000, 2000", store)
    columns = ", ".join(["Phone"] + [f"'Billing_City{i}'" for i in range(50)])
    assert error(store, f"select {columns} from Accounts where id is not null").code == "LIMIT_EXCEEDED"
    criteria = " and ".join("Phone is null" for _ in range(2))
    nested = f"(({criteria}) and ({criteria}))"
    for _ in range(3):
        nested = f"({nested} and {nested})"
    assert error(store, f"select id from Accounts where {nested}").code == "LIMIT_EXCEEDED"


def test_duplicate_columns_are_refused(store: Store) -> None:
    assert error(store, "select Phone, Phone from Accounts where id is not null").code == "DUPLICATE_DATA"
    assert (
        error(store, "select id from Accounts where id is not null order by id, id").code == "DUPLICATE_DATA"
    )


def test_default_limit_is_200_and_credits_follow_the_limit(store: Store) -> None:
    for i in range(250):
        store.insert("Accounts", {"Account_Name": f"Bulk {i}"}, NOW, CRM_USER_ID)
    result = coql.run("select id from Accounts where id is not null", store)
    assert (len(result.rows), result.more_records, result.limit) == (200, True, 200)
    assert [coql.credits_for(n) for n in (1, 200, 201, 1000, 1001, 2000)] == [1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Invoices_Due_Date_Day = 20", ["Acme Widgets Pty Ltd"]),
        ("Invoices_Due_Date_Day != 20", ["Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day <> 20", ["Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day < 20", ["Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day <= 20", ["Acme Widgets Pty Ltd", "Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day > 14", ["Acme Widgets Pty Ltd"]),
        ("Invoices_Due_Date_Day >= 14", ["Acme Widgets Pty Ltd", "Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day in (14, '20')", ["Acme Widgets Pty Ltd", "Blue Mountain Bakery"]),
        ("Invoices_Due_Date_Day not in (14)", ["Acme Widgets Pty Ltd"]),
        ("Invoices_Due_Date_Day between 15 and 25", ["Acme Widgets Pty Ltd"]),
        ("Invoices_Due_Date_Day not between 15 and 25", ["Blue Mountain Bakery"]),
        ("Sales_Discount = 5", ["Acme Widgets Pty Ltd"]),
        ("Billing_City like 'Z%'", ["Café Zürich Ñandú Ltd"]),
        ("Billing_City not like '%y%'", ["Blue Mountain Bakery", "Café Zürich Ñandú Ltd"]),
        (
            "Billing_City is not null",
            ["Acme Widgets Pty Ltd", "Blue Mountain Bakery", "Café Zürich Ñandú Ltd"],
        ),
    ],
)
def test_every_operator(store: Store, where: str, expected: list[str]) -> None:
    assert names(store, where) == expected


def test_operators_a_type_does_not_support_are_refused(store: Store) -> None:
    for where in ("Billing_City > 'A'", "Billing_City between 'A' and 'B'", "Phone < '1'"):
        assert error(store, f"select id from Accounts where {where}").message == "invalid operator found"
    lookup = error(store, "select id from Contacts where Account_Name like '%5%'")
    assert lookup.details["operator"] == "like"
