"""POST /crm/v8/coql over HTTP: answers, errors and credits in Zoho's shapes."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import assert_contract


def _query(api: httpx.Client, query: str) -> httpx.Response:
    return api.post("/crm/v8/coql", json={"select_query": query})


def test_a_query_returns_data_and_info(api: httpx.Client) -> None:
    answer = _query(
        api,
        "select Account_Name, Modified_Time, Xero_ID from Accounts "
        "where (Add_to_Xero = true and Modified_Time >= '2000-01-01T00:00:00+00:00') "
        "order by Modified_Time asc limit 5",
    )
    assert answer.status_code == 200
    assert_contract(answer)
    body = answer.json()
    assert body["info"] == {"count": 5, "more_records": True}
    assert all(set(row) == {"Account_Name", "Modified_Time", "Xero_ID", "id"} for row in body["data"])
    times = [row["Modified_Time"] for row in body["data"]]
    assert times == sorted(times)


def test_contacts_of_many_accounts_in_one_query(api: httpx.Client) -> None:
    ids = ", ".join(f"'57257670000004000{n:02d}'" for n in (2, 5, 6))
    answer = _query(
        api, f"select Last_Name, Email, Account_Name.id from Contacts where Account_Name in ({ids})"
    )
    assert_contract(answer)
    rows = answer.json()["data"]
    assert len(rows) == 3 + 3 + 2
    assert {row["Account_Name.id"] for row in rows} == {
        "5725767000000400002",
        "5725767000000400005",
        "5725767000000400006",
    }


def test_no_rows_is_204_without_a_body(api: httpx.Client) -> None:
    answer = _query(api, "select id from Accounts where Account_Name = 'Nobody'")
    assert answer.status_code == 204 and answer.content == b"" and "content-type" not in answer.headers


def test_errors_have_zohos_coql_shapes(api: httpx.Client) -> None:
    missing_where = _query(api, "select id from Accounts")
    assert missing_where.status_code == 400
    assert missing_where.json() == {
        "code": "SYNTAX_ERROR",
        "details": {"clause": "where"},
        "message": "missing clause",
        "status": "error",
    }
    assert_contract(missing_where)
    syntax = _query(api, "select id from Accounts where Phone = ")
    assert syntax.json()["code"] == "SYNTAX_ERROR" and set(syntax.json()["details"]) == {
        "line",
        "column",
        "near",
    }
    assert_contract(syntax)
    column = _query(api, "select Nope from Accounts where id is not null")
    assert column.json()["message"] == "column given seems to be invalid"
    assert_contract(column)
    value = _query(api, "select id from Accounts where Modified_Time > 'yesterday'")
    assert value.json()["message"] == "value given seems to be invalid for the column"
    assert_contract(value)
    limit = _query(api, "select id from Accounts where id is not null limit 5000")
    assert (limit.status_code, limit.json()["code"]) == (400, "LIMIT_EXCEEDED")
    assert_contract(limit)


def test_the_body_must_carry_select_query(api: httpx.Client, zoho_sandbox: Any) -> None:
    answer = api.post("/crm/v8/coql", json={"query": "select id from Accounts where id is not null"})
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_QUERY")
    assert_contract(answer)
    assert zoho_sandbox.app.calls()[-1]["contract_violations"] == ["$: 'select_query' is a required property"]


def test_credits_depend_on_the_limit(api: httpx.Client, zoho_sandbox: Any) -> None:
    for limit, cost in ((200, 1), (1000, 2), (2000, 3)):
        before = zoho_sandbox.app.credits_used()
        assert _query(api, f"select id from Accounts where id is not null limit {limit}").status_code == 200
        assert zoho_sandbox.app.credits_used() - before == cost


def test_ungrouped_criteria_are_refused_unless_configured(api: httpx.Client, zoho_sandbox: Any) -> None:
    query = "select id from Accounts where Add_to_Xero = true and Phone is null and Fax is null"
    refused = _query(api, query)
    assert (refused.status_code, refused.json()["code"]) == (400, "SYNTAX_ERROR")
    assert refused.json()["details"]["near"] == "and"
    zoho_sandbox.app.configure(coql_strict_grouping=False)
    assert _query(api, query).status_code == 200
