"""The e-mail summary after each run (optional; recipients are set in the portal's Settings).

`RunSummaryNotifier.notify(run)` is called once when a run finishes. It sends one message
(plain text and HTML) with the outcome, the counts and the Accounts that need attention,
each with its exact message, and a link to the run in the portal. No recipients → nothing
is sent. Sending goes through a `Mailer`; `SesMailer` adapts an SES client (boto3's
`send_email`) without this module importing boto3.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.models.portal import PortalSettings
from chalicelib.models.runs import Run, RunAccount, RunState

logger = logging.getLogger(__name__)

MAX_PROBLEMS_LISTED = 50
OUTCOME_WORDS = {
    RunState.COMPLETED: "completed",
    RunState.COMPLETED_WITH_ERRORS: "completed with problems",
    RunState.FAILED: "failed",
}


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    def send(self, sender: str, recipients: Sequence[str], email: Email) -> str: ...


class SesMailer:
    """An SES client (`boto3.client("ses")`) as a Mailer."""

    def __init__(self, ses: Any) -> None:
        self.ses = ses

    def send(self, sender: str, recipients: Sequence[str], email: Email) -> str:
        response = self.ses.send_email(
            Source=sender,
            Destination={"ToAddresses": list(recipients)},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                },
            },
        )
        return str(response.get("MessageId", ""))


class RunSummaryNotifier:
    def __init__(
        self,
        mailer: Mailer,
        *,
        sender: str,
        settings: Callable[[], PortalSettings],
        problems: Callable[[str], list[RunAccount]],
        run_url: Callable[[str], str | None] = lambda run_id: None,
    ) -> None:
        self.mailer = mailer
        self.sender = sender
        self.settings = settings
        self.problems = problems
        self.run_url = run_url

    def notify(self, run: Run) -> bool:
        """Send the summary of a finished run; True if a message went out.

        Never raises: a summary that cannot be sent must not fail the run (it is logged).
        """
        if not run.state.finished:
            return False
        try:
            portal = self.settings()
            if not portal.summary_recipients:
                return False
            problems = self.problems(run.run_id)
            if portal.summary_only_problems and not problems and run.state is not RunState.FAILED:
                return False
            if not self.sender:
                logger.warning("run summary not sent: SUMMARY_EMAIL_FROM is not set")
                return False
            email = build_summary(run, problems, self.run_url(run.run_id))
            self.mailer.send(self.sender, portal.summary_recipients, email)
        except Exception:
            logger.exception("run summary e-mail failed", extra={"run_id": run.run_id})
            return False
        return True


def build_summary(run: Run, problems: Sequence[RunAccount], link: str | None = None) -> Email:
    outcome = OUTCOME_WORDS.get(run.state, run.state.value)
    kind = "Dry run" if run.dry_run else "Sync run"
    subject = f"{kind} {outcome}: {_headline(run)}"
    return Email(
        subject=subject, text=_text(run, outcome, problems, link), html=_html(run, outcome, problems, link)
    )


def _headline(run: Run) -> str:
    c = run.counts
    if run.dry_run:
        return (
            f"{c.get('created', 0)} would be created, {c.get('updated', 0)} updated, "
            f"{c.get('rejected', 0) + c.get('failed', 0)} need attention"
        )
    return (
        f"{c.get('created', 0)} created, {c.get('updated', 0)} updated, "
        f"{c.get('rejected', 0) + c.get('failed', 0)} need attention"
    )


def _count_rows(run: Run) -> list[tuple[str, int]]:
    c = run.counts
    return [
        ("Accounts selected", c.get("selected", 0)),
        ("Created in Xero", c.get("created", 0)),
        ("Updated in Xero", c.get("updated", 0)),
        ("Unchanged", c.get("unchanged", 0)),
        ("Rejected (fix in Zoho)", c.get("rejected", 0)),
        ("Failed (will need a retry)", c.get("failed", 0)),
    ]


def _text(run: Run, outcome: str, problems: Sequence[RunAccount], link: str | None) -> str:
    lines = [
        f"The {'dry run' if run.dry_run else 'sync run'} of {run.window_label()} {outcome}.",
        f"Started {run.started_at or run.created_at}, finished {run.finished_at or '-'} (UTC).",
        "",
    ]
    if run.dry_run:
        lines += [
            "Dry run: nothing was written to Xero or Zoho; the counts say what a real run would do.",
            "",
        ]
    if run.message:
        lines += [run.message, ""]
    lines += [f"{label:<28}{value:>8}" for label, value in _count_rows(run)]
    if problems:
        lines += ["", f"Accounts that need attention ({len(problems)}):"]
        for item in problems[:MAX_PROBLEMS_LISTED]:
            lines.append(
                f"- {item.account_name or item.account_id} ({item.account_id}), {item.result.value}:"
            )
            lines.append(f"  {item.message}")
        if len(problems) > MAX_PROBLEMS_LISTED:
            lines.append(f"… and {len(problems) - MAX_PROBLEMS_LISTED} more in the portal.")
    if link:
        lines += ["", f"See the run in the portal: {link}"]
    return "\n".join(lines) + "\n"


def _html(run: Run, outcome: str, problems: Sequence[RunAccount], link: str | None) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><td style="padding:4px 16px 4px 0">{e(label)}</td>'
        f'<td style="padding:4px 0;text-align:right;font-weight:600">{value}</td></tr>'
        for label, value in _count_rows(run)
    )
    parts = [
        '<div style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937;max-width:640px">',
        f'<h1 style="font-size:20px">{e("Dry run" if run.dry_run else "Sync run")} {e(outcome)}</h1>',
        f"<p>{e(run.window_label().capitalize())}. Started {e(run.started_at or run.created_at)}, "
        f"finished {e(run.finished_at or '-')} (UTC).</p>",
    ]
    if run.dry_run:
        parts.append("<p><strong>Dry run:</strong> nothing was written to Xero or Zoho.</p>")
    if run.message:
        parts.append(f"<p>{e(run.message)}</p>")
    parts.append(f'<table style="border-collapse:collapse">{rows}</table>')
    if problems:
        items = "".join(
            f"<li><strong>{e(item.account_name or item.account_id)}</strong> "
            f'<span style="color:#6b7280">({e(item.account_id)}, {e(item.result.value)})</span><br>'
            f"{e(item.message)}</li>"
            for item in problems[:MAX_PROBLEMS_LISTED]
        )
        more = (
            f"<p>… and {len(problems) - MAX_PROBLEMS_LISTED} more in the portal.</p>"
            if len(problems) > MAX_PROBLEMS_LISTED
            else ""
        )
        parts.append(
            f'<h2 style="font-size:16px">Accounts that need attention ({len(problems)})</h2><ul>{items}</ul>{more}'
        )
    if link:
        parts.append(f'<p><a href="{e(link, quote=True)}">Open the run in the portal</a></p>')
    parts.append("</div>")
    return "".join(parts)
