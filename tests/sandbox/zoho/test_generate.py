"""Synthetic data: deterministic, primary-contact rules, deliberate defects, fast."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx

from sandbox.zoho import ZohoSandbox, ZohoSandboxConfig


def _fresh() -> ZohoSandbox:
    return ZohoSandbox(ZohoSandboxConfig(seed=False))


def test_the_same_seed_gives_the_same_records() -> None:
    one, two, other = _fresh(), _fresh(), _fresh()
    assert one.generate(200, seed=3) == two.generate(200, seed=3)
    other.generate(200, seed=4)
    strip = ("Created_Time", "Modified_Time")  # relative to each sandbox's clock
    rows = [
        [{k: v for k, v in r.items() if k not in strip} for r in sb.records("Accounts")]
        for sb in (one, two, other)
    ]
    assert rows[0] == rows[1] != rows[2]


def test_contacts_and_primary_rules() -> None:
    sandbox = _fresh()
    summary = sandbox.generate(1000, seed=1)
    defects = {name: set(ids) for name, ids in summary["defects"].items()}
    contacts_by_account: dict[str, list[dict[str, Any]]] = {}
    for contact in sandbox.records("Contacts"):
        contacts_by_account.setdefault(contact["Account_Name"]["id"], []).append(contact)
    assert summary["contacts"] == sum(len(c) for c in contacts_by_account.values())
    for account in sandbox.records("Accounts"):
        contacts = contacts_by_account[account["id"]]
        primaries = sum(c["Primary_Contact"] for c in contacts)
        assert 1 <= len(contacts) <= 4
        if account["id"] in defects["no_primary"]:
            assert len(contacts) > 1 and primaries == 0
        elif len(contacts) > 1:
            assert primaries == 1
        assert (account["Account_Name"] is None) == (account["id"] in defects["missing_name"])
        assert account["Add_to_Xero"] == (account["id"] not in defects["not_in_xero"])
    for account_id in defects["bad_email"]:
        emails = [c["Email"] for c in contacts_by_account[account_id]]
        assert any(" at " in e for e in emails)


def test_a_few_percent_are_deliberately_invalid_and_names_are_unique() -> None:
    sandbox = _fresh()
    summary = sandbox.generate(5000, seed=11)
    broken = sum(len(ids) for ids in summary["defects"].values())
    assert 0.02 * 5000 < broken < 0.06 * 5000
    assert all(summary["defects"].values())  # every kind of defect shows up
    names = Counter(a["Account_Name"] for a in sandbox.records("Accounts") if a["Account_Name"])
    assert names.most_common(1)[0][1] == 1


def test_ten_thousand_accounts_in_a_few_seconds() -> None:
    sandbox = _fresh()
    started = time.perf_counter()
    summary = sandbox.generate(10_000, seed=1)
    assert time.perf_counter() - started < 5
    assert summary["accounts"] == len(sandbox.records("Accounts")) == 10_000


def test_generate_over_the_admin_api_adds_to_the_seed(zoho_sandbox: Any, admin: httpx.Client) -> None:
    summary = admin.post("/generate", json={"accounts": 25, "seed": 2}).json()
    assert summary["accounts"] == 25
    assert admin.get("/state").json()["records"]["Accounts"] == 14 + 25
    assert admin.post("/generate", json={"accounts": "many"}).status_code == 400
