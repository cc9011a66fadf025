"""Deleted records: DELETE /crm/v8/{module}/{id} and GET /crm/v8/{module}/deleted, as in
Zoho CRM v8's record.json (type all/recycle/permanent, page/per_page, If-Modified-Since)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import ACME, BLUE_MOUNTAIN, ISLAND, assert_contract


def _deleted(api: httpx.Client, **params: Any) -> httpx.Response:
    headers = {}
    if "since" in params:
        headers["If-Modified-Since"] = params.pop("since")
    answer = api.get("/crm/v8/Accounts/deleted", params=params, headers=headers)
    assert_contract(answer)
    return answer


def test_nothing_deleted_answers_204_with_no_body(api: httpx.Client) -> None:
    answer = _deleted(api)
    assert (answer.status_code, answer.content) == (204, b"")


def test_an_account_deleted_through_the_api_is_listed_in_the_recycle_bin(
    api: httpx.Client, zoho_sandbox: Any
) -> None:
    answer = api.delete(f"/crm/v8/Accounts/{ACME}")
    assert answer.status_code == 200
    assert answer.json()["data"][0]["code"] == "SUCCESS"
    assert api.get(f"/crm/v8/Accounts/{ACME}").status_code in (204, 400)

    [row] = _deleted(api).json()["data"]
    assert (row["id"], row["display_name"], row["type"]) == (ACME, "Acme Widgets Pty Ltd", "recycle")
    assert row["deleted_by"]["id"] and row["deleted_time"].endswith("+00:00")
    assert _deleted(api, type="permanent").status_code == 204
    assert len(_deleted(api, type="recycle").json()["data"]) == 1


def test_deleting_an_unknown_record_changes_nothing(api: httpx.Client) -> None:
    answer = api.delete("/crm/v8/Accounts/5725767000009999999")
    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_DATA"
    assert _deleted(api).status_code == 204


def test_admin_deletions_page_and_filter_by_time_and_type(
    api: httpx.Client, admin: httpx.Client, zoho_sandbox: Any
) -> None:
    admin.delete(f"/records/Accounts/{ACME}").raise_for_status()
    zoho_sandbox.app.clock.advance(10)
    admin.delete(f"/records/Accounts/{BLUE_MOUNTAIN}", params={"permanent": "true"}).raise_for_status()
    admin.delete(f"/records/Accounts/{ISLAND}").raise_for_status()

    first = _deleted(api, per_page=2).json()
    assert first["info"] == {"per_page": 2, "count": 2, "page": 1, "more_records": True}
    second = _deleted(api, per_page=2, page=2).json()
    assert second["info"]["more_records"] is False
    assert {r["id"] for r in first["data"] + second["data"]} == {ACME, BLUE_MOUNTAIN, ISLAND}
    assert [r["id"] for r in _deleted(api, type="permanent").json()["data"]] == [BLUE_MOUNTAIN]

    oldest = second["data"][-1]["deleted_time"]
    later = _deleted(api, since=oldest).json()["data"]
    assert {r["id"] for r in later} == {BLUE_MOUNTAIN, ISLAND}


def test_a_wrong_type_or_page_size_is_refused(api: httpx.Client) -> None:
    assert _deleted(api, type="bin").status_code == 400
    assert _deleted(api, per_page=201).status_code == 400
