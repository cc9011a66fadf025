"""Manual Sync and runs: a dry run's counts, a real run watched to the end, Retry failed.

These need bulk runs (chalicelib/services/runs/); they skip until it exists.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from sandbox import seed_data

pytest.importorskip("chalicelib.services.runs")

NO_NAME = seed_data.account_id(3)
TICKED = [a for a in seed_data.ZOHO_ACCOUNTS if a.get("Add_to_Xero")]
FINISHED = ("Completed", "Completed with problems", "Failed")
RUN_SECONDS = 90_000  # ms: a hung run fails the test instead of hanging it


def start_run(page: Any, *, window: str, dry_run: bool) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manual Sync").click()
    expect(page.get_by_label("Module")).to_have_value("accounts")
    expect(page.get_by_label("Direction")).to_have_value("zoho_to_xero")
    page.locator(f'input[name="window"][value="{window}"]').check()
    if dry_run:
        page.get_by_label("Dry run").check()
    page.get_by_role("button", name="Sync Now").click()
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()


def wait_for_end(page: Any) -> str:
    """Live progress updates the page; when the run ends the page reloads with its problems."""
    live = page.locator("[data-run-live]")
    expect(live).to_have_attribute("data-finished", "true", timeout=RUN_SECONDS)
    page.wait_for_load_state()
    state = page.locator("[data-run-state] .badge").inner_text()
    assert state in FINISHED
    return state


def count(page: Any, name: str) -> int:
    return int(page.locator(f'[data-count="{name}"]').inner_text().replace(",", ""))


def test_a_dry_run_reports_counts_and_writes_nothing(signed_in: Any, live: Any) -> None:
    page = signed_in
    before = len(live.xero.contacts())
    start_run(page, window="all", dry_run=True)
    expect(page.get_by_text("Dry run: nothing is written to Xero or Zoho.")).to_be_visible()
    wait_for_end(page)
    assert count(page, "selected") == len(TICKED)
    assert count(page, "created") >= 1
    assert count(page, "rejected") >= 1
    assert count(page, "selected") == sum(
        count(page, n) for n in ("created", "updated", "unchanged", "rejected", "failed")
    )
    assert len(live.xero.contacts()) == before  # nothing was written
    assert live.xero.contact(seed_data.account_id(1)) is None


def test_a_real_run_is_watched_to_the_end_and_shows_each_problem(signed_in: Any, live: Any) -> None:
    page = signed_in
    start_run(page, window="all", dry_run=False)
    state = wait_for_end(page)
    assert state == "Completed with problems"
    created = count(page, "created")
    assert created >= 1
    assert live.xero.contact(seed_data.account_id(1)) is not None
    problem = page.locator(f'tr[data-account-id="{NO_NAME}"]')
    expect(problem.locator(".message")).to_contain_text("Account Name")
    expect(problem.get_by_role("link", name="Zoho Account (opens in a new tab)")).to_have_attribute(
        "href", f"{live.zoho_url}/crm/tab/Accounts/{NO_NAME}"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Completed with problems")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-last-run]")).to_contain_text("Completed with problems")


def test_retry_failed_reruns_the_problems_once_they_are_fixed(signed_in: Any, live: Any) -> None:
    page = signed_in
    start_run(page, window="all", dry_run=False)
    wait_for_end(page)
    first_run = page.url
    rejected = count(page, "rejected") + count(page, "failed")
    live.zoho.edit("Accounts", NO_NAME, {"Account_Name": "Nameless Traders"}, automation=False)

    page.get_by_role("button", name="Retry failed").click()
    expect(page.get_by_text("retry of")).to_be_visible()
    assert page.url != first_run
    wait_for_end(page)
    assert count(page, "selected") == rejected
    assert count(page, "created") == 1
    assert live.xero.contact(NO_NAME)["Name"] == "Nameless Traders"
    expect(page.locator(f'tr[data-account-id="{NO_NAME}"]')).to_have_count(0)


def test_retry_failed_on_a_dry_run_is_a_dry_run(signed_in: Any, live: Any) -> None:
    page = signed_in
    start_run(page, window="all", dry_run=True)
    wait_for_end(page)
    live.zoho.edit("Accounts", NO_NAME, {"Account_Name": "Nameless Traders"}, automation=False)
    zoho_before = live.zoho.get("Accounts", NO_NAME)

    page.get_by_role("button", name="Retry failed as a dry run").click()
    expect(page.get_by_text("retry of")).to_be_visible()
    expect(page.get_by_role("heading", name="Dry run")).to_be_visible()
    expect(page.get_by_text("Retry via Portal")).to_be_visible()
    wait_for_end(page)

    assert count(page, "created") == 1  # would create the Account that now has a name
    assert live.xero.contact(NO_NAME) is None  # ... but nothing was written
    assert live.zoho.get("Accounts", NO_NAME) == zoho_before
    expect(page.locator("[data-run-duration]")).to_have_text(re.compile(r"^\d+(\.\d| min \d+\.\d) s$"))
