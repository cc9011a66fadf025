"""Regenerates docs/screenshots/ (the README's pictures of the portal).

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_screenshots.py

Skipped otherwise, so `make test` never rewrites tracked files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from sandbox import seed_data
from tests.e2e.test_conflicts import hold_a_conflict
from tests.e2e.test_runs import start_run, wait_for_end

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(
    os.environ.get("UPDATE_SCREENSHOTS") != "1",
    reason="set UPDATE_SCREENSHOTS=1 to regenerate docs/screenshots",
)


def shot(page: Any, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_regenerate_screenshots(page: Any, live: Any) -> None:
    pytest.importorskip("chalicelib.services.runs")
    page.goto("/portal")
    shot(page, "signin")
    page.get_by_label("Password").fill(os.environ.get("PORTAL_PASSWORD", "local-portal-password"))
    page.get_by_role("button", name="Sign in").click()

    page.goto("/portal/connect")
    page.locator('article[data-provider="xero"] button[type=submit]').click()
    page.get_by_role("button", name="Allow access").click()
    expect(page.locator("[data-connect-result]")).to_be_visible()
    shot(page, "connections")

    page.goto("/portal/sync")
    page.locator('input[name="window"][value="days"]').check()
    shot(page, "manual-sync")

    start_run(page, window="all", dry_run=False)
    wait_for_end(page)
    shot(page, "run")

    page.goto("/portal/runs")
    shot(page, "runs")

    account = seed_data.account_id(2)
    live.zoho.edit(
        "Accounts", account, {"Phone": "+61 2 4782 9999", "Billing_City": "Katoomba"}, automation=False
    )
    page.goto(f"/portal/accounts/{account}")
    expect(page.locator("[data-preview]")).to_be_visible()
    shot(page, "account")

    page.goto("/portal")
    shot(page, "dashboard")

    page.goto("/portal/settings")
    shot(page, "settings")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/portal")
    shot(page, "dashboard-phone")


def test_regenerate_the_conflicts_screenshot(signed_in: Any, holding: Any) -> None:
    page = signed_in
    account = seed_data.account_id(1)
    hold_a_conflict(page, holding, account, "ACC-0001-B", "ACC-1001")
    page.goto("/portal/conflicts")
    expect(page.locator("tr[data-conflict]")).to_have_count(1)
    shot(page, "conflicts")
