"""The contract helpers (sandbox/specs/zoho_spec.py) others reuse, checked on their own."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sandbox.specs import zoho_spec

SPEC_DIR = Path(zoho_spec.__file__).with_name("zoho")


def test_vendored_files_match_their_checksums() -> None:
    for line in (SPEC_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((SPEC_DIR / name).read_bytes()).hexdigest() == digest, name


def test_cross_file_refs_resolve_locally() -> None:
    user = (
        zoho_spec.registry()
        .resolver()
        .lookup(f"{zoho_spec.RAW_PREFIX}users.json#/components/schemas/Minified_User")
    )
    assert user.contents["required"] == ["name", "id"]


def test_a_missing_file_is_named_clearly() -> None:
    with pytest.raises(Exception, match=r"fields\.json"):
        zoho_spec.registry().resolver().lookup(f"{zoho_spec.RAW_PREFIX}fields.json#/x")


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("PUT", "/crm/v8/Accounts", "/crm/v8/{module_api_name}"),
        ("GET", "/crm/v8/Accounts/5725767000000400001", "/crm/v8/{module_api_name}/{id}"),
        (
            "GET",
            "/crm/v8/Accounts/1/Contacts",
            "/crm/v8/{module_api_name}/{record_id}/{related_list_api_name}",
        ),
        ("POST", "/crm/v8/coql", "/crm/v8/coql"),
        ("GET", "/crm/v8/Accounts/actions/count", "/crm/v8/{module_api_name}/actions/count"),
        ("PUT", "/crm/v8/{module_api_name}", "/crm/v8/{module_api_name}"),
    ],
)
def test_paths_find_the_most_specific_operation(method: str, path: str, template: str) -> None:
    operation = zoho_spec.find_operation(method, path)
    assert operation is not None and operation.template == template


def test_request_errors_for_the_update_body() -> None:
    good = {"data": [{"id": "5725767000000400001", "Xero_Sync_Status": "Synced"}], "trigger": []}
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", good) == []
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", b'{"data": [], "trigger": ["workflow"]}') == []
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", {"data": "x", "trigger": "workflow"}) == [
        "$.data: 'x' is not of type 'array'",
        "$.trigger: 'workflow' is not of type 'array'",
    ]
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", {"data": [], "trigger": ["flow"]}) == [
        "$.trigger[0]: 'flow' is not one of ['workflow', 'approval', 'blueprint', 'pathfinder', 'orchestration']"
    ]
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", "{oops")[0].startswith(
        "$: body is not valid JSON"
    )
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", None) == ["$: a request body is required"]


def test_numeric_ids_fail_the_spec_unless_allowed() -> None:
    body = {"data": [{"id": 5725767000000400001}]}
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", body) == [
        "$.data[0].id: 5725767000000400001 is not of type 'string'"
    ]
    assert zoho_spec.request_errors("PUT", "/crm/v8/Accounts", body, allow_numeric_ids=True) == []


def test_request_errors_for_coql() -> None:
    assert zoho_spec.request_errors("POST", "/crm/v8/coql", {"select_query": "select id from Accounts"}) == []
    assert zoho_spec.request_errors("POST", "/crm/v8/coql", {"select_query": 5}) == [
        "$.select_query: 5 is not of type 'string'"
    ]
    assert zoho_spec.request_errors("GET", "/nowhere", None)[0].startswith("no operation")


def test_response_errors_catch_wrong_success_bodies() -> None:
    record = {
        "id": "1",
        "Modified_Time": "2026-11-25T18:00:00+00:00",
        "Modified_By": {"name": "A", "id": "2"},
    }
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, {"data": [record]}) == []
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, {"data": record}) == [
        f"$.data: {record!r} is not of type 'array'"
    ]
    bad_time = {"data": [{**record, "Modified_Time": "2026-11-25 18:00"}]}
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, bad_time) == [
        "$.data[0].Modified_Time: '2026-11-25 18:00' is not a 'date-time'"
    ]
    no_user_name = {"data": [{**record, "Modified_By": {"id": "2"}}]}
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, no_user_name) == [
        "$.data[0].Modified_By: 'name' is a required property"
    ]


def test_response_errors_pick_error_schemas_by_status() -> None:
    error = {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, error) == []
    made_up = {**error, "code": "NOT_A_ZOHO_CODE"}
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 200, made_up) != []
    # Statuses the spec does not list get Zoho's generic envelope.
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 401, error) == []
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 429, {"code": "X"}) != []
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1/Contacts", 204, None) == []
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1/Contacts", 204, b"{}") != []
    assert zoho_spec.response_errors("GET", "/crm/v8/Accounts/1", 201, {"data": []})[0].startswith(
        "status 201"
    )


def test_coql_errors_must_match_a_documented_exception() -> None:
    missing_where = {"code": "SYNTAX_ERROR", "details": {"clause": "where"}, "message": "missing clause"}
    assert zoho_spec.response_errors("POST", "/crm/v8/coql", 400, {**missing_where, "status": "error"}) == []
    wrong = {"code": "SYNTAX_ERROR", "details": {}, "message": "missing clause", "status": "error"}
    assert zoho_spec.response_errors("POST", "/crm/v8/coql", 400, wrong) != []


def test_per_record_results_are_checked_in_207_and_400_answers() -> None:
    ok = {
        "code": "SUCCESS",
        "details": {"id": "1", "Modified_By": {"name": "A", "id": "2"}},
        "message": "record updated",
        "status": "success",
    }
    failed = {
        "code": "INVALID_DATA",
        "details": {"api_name": "id"},
        "message": "invalid data",
        "status": "error",
    }
    assert zoho_spec.response_errors("PUT", "/crm/v8/Accounts", 207, {"data": [ok, failed]}) == []
    assert zoho_spec.response_errors("PUT", "/crm/v8/Accounts", 400, {"data": [failed]}) == []
    bogus = {**ok, "message": "all good"}
    assert zoho_spec.response_errors("PUT", "/crm/v8/Accounts", 207, {"data": [bogus, failed]}) != []
