"""The portal over Chalice's local gateway: who gets in, and which forms are refused.

DynamoDB is moto (in process); runs come from a fake with RunService's interface.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.models.portal import PortalSettings
from chalicelib.models.runs import StartRunRequest
from chalicelib.portal.filters import duration
from chalicelib.portal.security import hash_password
from tests.portal_browser import PASSWORD, Browser, app_with, set_cookies, signed_in_browser
from tests.unit.portal.conftest import TABLE
from tests.unit.portal.fakes import FakeRuns


@pytest.fixture
def runs() -> FakeRuns:
    return FakeRuns()


@pytest.fixture
def app_client(ddb: Any, monkeypatch: pytest.MonkeyPatch, runs: FakeRuns) -> Iterator[Client]:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("ADMIN_PASSWORD_HASH", hash_password(PASSWORD, n=2**10))
    monkeypatch.setenv("SESSION_SECRET", "unit-test-session-secret")
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    with app_with(dynamodb=ddb, runs=runs) as client:
        yield client


@pytest.fixture
def browser(app_client: Client) -> Browser:
    return Browser(app_client)


@pytest.fixture
def signed_in(app_client: Client) -> Browser:
    return signed_in_browser(app_client)


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/portal", "/portal/runs", "/portal/accounts/123", "/portal/settings", "/portal/connect"]
)
def test_pages_send_anonymous_visitors_to_sign_in(browser: Browser, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/portal/signin?next=")


def test_the_progress_endpoint_answers_anonymous_callers_with_401_json(browser: Browser) -> None:
    response = browser.get("/portal/api/runs/20260301-000000-abcdef00")
    assert response.status_code == 401
    assert response.json_body == {"message": "Sign in to the portal first."}


def test_an_anonymous_form_post_starts_nothing(browser: Browser, runs: FakeRuns) -> None:
    response = browser.post("/portal/sync", {"window": "all"})
    assert response.status_code == 303
    assert "/portal/signin" in response.headers["Location"]
    assert runs.started == []


# --- signing in ------------------------------------------------------------------------------


def test_signing_in_sets_a_locked_down_session_cookie(browser: Browser) -> None:
    response = browser.sign_in()
    assert response.status_code == 303
    assert response.headers["Location"] == "/portal"
    [session] = [c for c in set_cookies(response) if c.startswith("portal_session=")]
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=28800"):
        assert attribute in session
    page = browser.get("/portal")
    assert page.status_code == 200
    assert b"<h1>Dashboard</h1>" in page.body


def test_a_wrong_password_is_refused_in_plain_words(browser: Browser) -> None:
    response = browser.sign_in("not the password")
    assert response.status_code == 401
    assert b"That password is not right" in response.body
    assert "portal_session" not in browser.cookies


def test_the_sign_in_form_needs_its_own_csrf_token(browser: Browser) -> None:
    response = browser.post("/portal/signin", {"password": PASSWORD})
    assert response.status_code == 403
    assert "portal_session" not in browser.cookies


def test_repeated_wrong_passwords_lock_the_address_out_even_for_the_right_one(browser: Browser) -> None:
    for _ in range(5):
        assert browser.sign_in("guess").status_code == 401
    response = browser.sign_in(PASSWORD)
    assert response.status_code == 429
    assert b"Too many wrong passwords" in response.body
    assert "portal_session" not in browser.cookies


def test_after_sign_in_only_portal_paths_are_followed(browser: Browser) -> None:
    browser.get("/portal/signin")
    response = browser.post(
        "/portal/signin",
        {"csrf_token": browser.csrf(), "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/portal"


def test_a_forged_cookie_is_no_session(browser: Browser) -> None:
    browser.cookies["portal_session"] = "eyJzaWQiOiJ4In0.bm90LWEtc2lnbmF0dXJl"
    assert browser.get("/portal").status_code == 303


def test_signing_out_ends_the_session_even_for_a_copied_cookie(signed_in: Browser) -> None:
    copied = dict(signed_in.cookies)
    signed_in.get("/portal")
    response = signed_in.post("/portal/signout", {"csrf_token": signed_in.csrf()})
    assert response.status_code == 303
    assert "portal_session" not in signed_in.cookies
    signed_in.cookies = copied
    assert signed_in.get("/portal").status_code == 303


# --- CSRF -------------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused_and_starts_nothing(
    signed_in: Browser, runs: FakeRuns
) -> None:
    response = signed_in.post("/portal/sync", {"window": "all"})
    assert response.status_code == 403
    assert b"This form has expired" in response.body
    assert runs.started == []


def test_a_form_with_another_sessions_token_is_refused(
    signed_in: Browser, app_client: Client, runs: FakeRuns
) -> None:
    other = Browser(app_client)
    other.sign_in()
    other.get("/portal/sync")
    response = signed_in.post("/portal/sync", {"window": "all", "csrf_token": other.csrf()})
    assert response.status_code == 403
    assert runs.started == []


def test_a_form_posted_from_another_site_is_refused(signed_in: Browser, runs: FakeRuns) -> None:
    signed_in.get("/portal/sync")
    token = signed_in.csrf()
    response = signed_in.post(
        "/portal/sync", {"window": "all", "csrf_token": token}, origin="https://evil.example"
    )
    assert response.status_code == 403
    assert runs.started == []


# --- manual sync and runs ----------------------------------------------------------------------


def test_sync_now_starts_the_run_asked_for_and_opens_its_page(signed_in: Browser, runs: FakeRuns) -> None:
    signed_in.get("/portal/sync")
    fields = {"window": "days", "days": "7", "dry_run": "1", "csrf_token": signed_in.csrf()}
    response = signed_in.post("/portal/sync", fields)
    assert response.status_code == 303
    [(request, trigger)] = runs.started
    assert (request.days, request.dry_run, trigger) == (7, True, "portal")
    page = signed_in.get(response.headers["Location"])
    assert page.status_code == 200
    assert b"Dry run" in page.body


def test_a_window_of_45_days_is_refused_with_the_allowed_range(signed_in: Browser, runs: FakeRuns) -> None:
    signed_in.get("/portal/sync")
    response = signed_in.post(
        "/portal/sync", {"window": "days", "days": "45", "csrf_token": signed_in.csrf()}
    )
    assert response.status_code == 400
    assert b"from 1 to 30" in response.body
    assert runs.started == []


def test_manual_sync_runs_either_direction(signed_in: Browser, runs: FakeRuns) -> None:
    page = signed_in.get("/portal/sync")
    assert b'<option value="xero_to_zoho"' in page.body
    fields = {"window": "all", "direction": "xero_to_zoho", "csrf_token": signed_in.csrf()}
    assert signed_in.post("/portal/sync", fields).status_code == 303
    [(request, _)] = runs.started
    assert request.direction == "xero_to_zoho"
    [run], _ = runs.list()
    assert "Xero → Zoho CRM" in signed_in.get(f"/portal/runs/{run.run_id}").body.decode()


def test_manual_sync_runs_both_ways(signed_in: Browser, runs: FakeRuns) -> None:
    page = signed_in.get("/portal/sync")
    assert b'<option value="both"' in page.body
    fields = {"window": "all", "direction": "both", "csrf_token": signed_in.csrf()}
    assert signed_in.post("/portal/sync", fields).status_code == 303
    [(request, _)] = runs.started
    assert request.direction == "both"
    [run], _ = runs.list()
    assert "Both ways" in signed_in.get(f"/portal/runs/{run.run_id}").body.decode()


def test_an_unknown_direction_is_refused_in_plain_words(signed_in: Browser, runs: FakeRuns) -> None:
    signed_in.get("/portal/sync")
    fields = {"window": "all", "direction": "sideways", "csrf_token": signed_in.csrf()}
    response = signed_in.post("/portal/sync", fields)
    assert response.status_code == 400
    assert "Choose a direction: Zoho CRM → Xero, Xero → Zoho CRM, or both ways." in response.body.decode()
    assert runs.started == []


def test_a_second_run_opens_the_one_in_progress(signed_in: Browser, runs: FakeRuns) -> None:
    first = runs.start(__import__("chalicelib.models.runs", fromlist=["x"]).StartRunRequest(window="all"))
    signed_in.get("/portal/sync")
    response = signed_in.post("/portal/sync", {"window": "all", "csrf_token": signed_in.csrf()})
    assert response.headers["Location"] == f"/portal/runs/{first.run_id}?notice=run-in-progress"


def test_progress_json_and_retry_of_a_finished_run(signed_in: Browser, runs: FakeRuns) -> None:
    from chalicelib.models.runs import StartRunRequest

    run = runs.start(StartRunRequest(window="all"))
    progress = signed_in.get(f"/portal/api/runs/{run.run_id}")
    assert progress.status_code == 200
    assert progress.json_body["state"] == "planning"
    assert progress.json_body["finished"] is False
    runs.finish(run.run_id)
    page = signed_in.get(f"/portal/runs/{run.run_id}")
    assert b"Account Name is empty." in page.body
    assert b"Retry failed" in page.body
    response = signed_in.post(f"/portal/runs/{run.run_id}/retry", {"csrf_token": signed_in.csrf()})
    assert response.status_code == 303
    retry = runs.get(response.headers["Location"].rsplit("/", 1)[-1])
    assert retry is not None
    assert retry.retry_of == run.run_id


def test_unknown_runs_are_404(signed_in: Browser) -> None:
    assert signed_in.get("/portal/runs/nope").status_code == 404
    assert signed_in.get("/portal/api/runs/nope").status_code == 404


# --- what a run's page says: origin, dry run (and its retry), duration --------------------------


def page_text(page: Any) -> str:
    """The page's words, tags stripped and spaces collapsed (what a reader sees)."""
    body = page.body.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize(
    ("trigger", "label"),
    [("portal", "Portal"), ("api", "API"), ("cli", "CLI"), ("schedule", "Schedule"), ("manual", "Portal")],
)
def test_a_runs_origin_is_shown_on_its_page_and_in_the_list(
    signed_in: Browser, runs: FakeRuns, trigger: str, label: str
) -> None:
    run = runs.start(StartRunRequest(window="all"), trigger=trigger)

    page = page_text(signed_in.get(f"/portal/runs/{run.run_id}"))
    listing = page_text(signed_in.get("/portal/runs"))

    assert f"Every Account with Add to Xero ticked · {label} · started" in page
    assert f" {label} " in listing


def test_retry_failed_on_a_dry_run_says_it_is_a_dry_run_and_starts_one(
    signed_in: Browser, runs: FakeRuns
) -> None:
    dry = runs.start(StartRunRequest(window="all", dry_run=True))
    runs.finish(dry.run_id)

    page = signed_in.get(f"/portal/runs/{dry.run_id}")
    assert "Retry failed as a dry run" in page_text(page)
    assert "A retry of a dry run is a dry run: nothing is written." in page_text(page)
    response = signed_in.post(f"/portal/runs/{dry.run_id}/retry", {"csrf_token": signed_in.csrf()})

    retry_page = page_text(signed_in.get(response.headers["Location"]))
    assert runs.retried == [(dry.run_id, "portal", False)]
    assert "Dry run Failed and rejected Accounts of run" in retry_page
    assert f"Retry via Portal · started 1 Mar 2026, 00:00 UTC · retry of {dry.run_id}" in retry_page


def test_retry_failed_on_a_real_run_is_a_real_retry(signed_in: Browser, runs: FakeRuns) -> None:
    real = runs.start(StartRunRequest(window="all"))
    runs.finish(real.run_id)

    page = page_text(signed_in.get(f"/portal/runs/{real.run_id}"))

    assert "Retry failed" in page and "as a dry run" not in page


def test_a_finished_runs_duration_is_shown_to_a_tenth_of_a_second(signed_in: Browser, runs: FakeRuns) -> None:
    run = runs.start(StartRunRequest(window="all"))
    going = page_text(signed_in.get(f"/portal/runs/{run.run_id}"))
    runs.finish(run.run_id)  # 1.3 s after its start

    page = page_text(signed_in.get(f"/portal/runs/{run.run_id}"))
    progress = signed_in.get(f"/portal/api/runs/{run.run_id}").json_body

    assert "Duration — " in going
    assert "Duration 1.3 s" in page
    assert progress["duration_seconds"] == 1.3
    assert progress["origin"] == "Portal"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "—"),
        (0.04, "0.0 s"),
        (1.3, "1.3 s"),
        (59.96, "1 min 0.0 s"),
        (62.25, "1 min 2.2 s"),
        (3725, "1 h 2 min"),
    ],
)
def test_durations_read_naturally(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


# --- settings -------------------------------------------------------------------------------


def test_summary_recipients_are_checked_and_saved(signed_in: Browser) -> None:
    signed_in.get("/portal/settings")
    bad = signed_in.post(
        "/portal/settings/notifications",
        {"recipients": "ann@x.example\nnot-an-address", "csrf_token": signed_in.csrf()},
    )
    assert bad.status_code == 400
    assert b"not-an-address" in bad.body
    good = signed_in.post(
        "/portal/settings/notifications",
        {"recipients": "Ann@X.example, bo@x.example", "only_problems": "1", "csrf_token": signed_in.csrf()},
    )
    assert good.status_code == 303
    assert wiring.container().portal_settings.get() == PortalSettings(
        summary_recipients=["ann@x.example", "bo@x.example"],
        summary_only_problems=True,
        updated_at=wiring.container().portal_settings.get().updated_at,
    )
    page = signed_in.get("/portal/settings")
    assert b"Field map" in page.body
    assert b"Account \xe2\x80\xba Account_Name" in page.body


def test_settings_show_which_way_each_field_flows(signed_in: Browser) -> None:
    import re

    page = signed_in.get("/portal/settings").body.decode()
    rows = dict(re.findall(r'<tr><th scope="row">([^<]*)</th><td>[^<]*</td><td>([^<]*)</td>', page))
    assert rows["Name"] == "both ways"
    assert rows["Phones (DEFAULT) › PhoneNumber"] == "both ways"
    assert rows["Phones (FAX) › PhoneNumber"] == "Zoho → Xero"
    assert rows["ContactNumber"] == "Zoho → Xero"
    assert rows["Phones (DEFAULT) › PhoneType"] == ""  # a fixed value flows nowhere


def test_pages_carry_security_headers(signed_in: Browser) -> None:
    page = signed_in.get("/portal")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
