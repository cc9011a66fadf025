"""The run summary e-mail: sent through SES (moto) to the recipients set in the portal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.models.portal import PortalSettings
from chalicelib.models.runs import AccountResult, Run, RunAccount, RunState, WindowKind
from chalicelib.services.notify import RunSummaryNotifier, SesMailer, build_summary

SENDER = "sync@finance.example"


def finished_run(state: RunState = RunState.COMPLETED_WITH_ERRORS, **changes: Any) -> Run:
    run = Run(
        run_id="20260301-020000-abcd1234",
        kind=WindowKind.DAYS,
        days=7,
        state=state,
        created_at="2026-03-01T02:00:00+00:00",
        started_at="2026-03-01T02:00:00+00:00",
        finished_at="2026-03-01T02:03:10+00:00",
        counts={"selected": 40, "created": 12, "updated": 20, "unchanged": 6, "rejected": 1, "failed": 1},
    )
    for key, value in changes.items():
        setattr(run, key, value)
    return run


PROBLEMS = [
    RunAccount(
        "r",
        "5725767000000400003",
        AccountResult.REJECTED,
        "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again.",
    ),
    RunAccount(
        "r",
        "5725767000000400011",
        AccountResult.FAILED,
        "Xero <refused> the e-mail & phone.",
        account_name="Harbour",
    ),
]


@pytest.fixture
def ses() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ses", region_name="us-east-1")
        client.verify_email_identity(EmailAddress=SENDER)
        yield client


def sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def notifier(
    ses: Any, settings: PortalSettings, problems: list[RunAccount] | None = None
) -> RunSummaryNotifier:
    return RunSummaryNotifier(
        SesMailer(ses),
        sender=SENDER,
        settings=lambda: settings,
        problems=lambda run_id: list(PROBLEMS if problems is None else problems),
        run_url=lambda run_id: f"https://portal.example/api/portal/runs/{run_id}",
    )


def test_a_finished_run_is_mailed_to_every_recipient_with_counts_and_problems(ses: Any) -> None:
    settings = PortalSettings(summary_recipients=["ann@finance.example", "bo@finance.example"])
    assert notifier(ses, settings).notify(finished_run())
    [message] = sent()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == ["ann@finance.example", "bo@finance.example"]
    assert message.subject == "Sync run completed with problems: 12 created, 20 updated, 2 need attention"
    assert (
        "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again."
        in message.body
    )
    assert "Xero &lt;refused&gt; the e-mail &amp; phone." in message.body  # HTML-escaped
    assert 'href="https://portal.example/api/portal/runs/20260301-020000-abcd1234"' in message.body
    assert ses.get_send_statistics()["SendDataPoints"][0]["DeliveryAttempts"] == 2


def test_no_recipients_means_no_mail(ses: Any) -> None:
    assert not notifier(ses, PortalSettings()).notify(finished_run())
    assert sent() == []


def test_only_problem_runs_are_mailed_when_asked(ses: Any) -> None:
    settings = PortalSettings(summary_recipients=["ann@finance.example"], summary_only_problems=True)
    assert not notifier(ses, settings, problems=[]).notify(finished_run(RunState.COMPLETED))
    assert notifier(ses, settings).notify(finished_run())
    assert notifier(ses, settings, problems=[]).notify(
        finished_run(RunState.FAILED, message="Zoho is disconnected.")
    )
    assert len(sent()) == 2


def test_a_run_still_going_is_not_mailed(ses: Any) -> None:
    settings = PortalSettings(summary_recipients=["ann@finance.example"])
    assert not notifier(ses, settings).notify(finished_run(RunState.RUNNING))
    assert sent() == []


def test_a_failure_to_send_never_breaks_the_run(ses: Any) -> None:
    settings = PortalSettings(summary_recipients=["ann@finance.example"])
    unverified = RunSummaryNotifier(
        SesMailer(ses), sender="nobody@unverified.example", settings=lambda: settings, problems=lambda _: []
    )
    assert not unverified.notify(finished_run())
    assert sent() == []


def test_the_plain_text_version_reads_on_its_own() -> None:
    email = build_summary(finished_run(), PROBLEMS, "https://portal.example/portal/runs/x")
    assert email.text.splitlines()[0] == "The sync run of last 7 days completed with problems."
    assert "Created in Xero                   12" in email.text
    assert "- Harbour (5725767000000400011), failed:" in email.text
    assert "  Xero <refused> the e-mail & phone." in email.text
    assert email.text.rstrip().endswith("See the run in the portal: https://portal.example/portal/runs/x")


def test_a_dry_run_says_nothing_was_written() -> None:
    email = build_summary(finished_run(RunState.COMPLETED, dry_run=True), [])
    assert email.subject.startswith("Dry run completed: 12 would be created")
    assert "nothing was written" in email.text
