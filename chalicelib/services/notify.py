"""The e-mail summary after each run (optional; recipients are set in the portal's Settings).

`RunSummaryNotifier.notify(run)` is called once when a run finishes. It sends one message
(plain text and HTML) with the outcome, the counts and the Accounts that need attention,
each with its exact message, and a link to the run in the portal. No recipients → nothing
is sent. Sending goes through a `Mailer`; `SesMailer` adapts an SES client (boto3's
`send_email`) without this module importing boto3. The words are in
services/templates/run_summary.txt and .html (Jinja2; the HTML one autoescaped).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.models.portal import PortalSettings
from chalicelib.models.runs import Run, RunAccount, RunState

if TYPE_CHECKING:
    import jinja2

logger = logging.getLogger(__name__)

MAX_PROBLEMS_LISTED = 50
TEMPLATES = Path(__file__).resolve().parent / "templates"
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
        subject=subject,
        text=_render("run_summary.txt", run, outcome, problems, link),
        html=_render("run_summary.html", run, outcome, problems, link),
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


def _render(name: str, run: Run, outcome: str, problems: Sequence[RunAccount], link: str | None) -> str:
    listed = problems[:MAX_PROBLEMS_LISTED]
    return (
        _templates()
        .get_template(name)
        .render(
            run=run,
            outcome=outcome,
            counts=_count_rows(run),
            problems=problems,
            listed=listed,
            more=len(problems) - len(listed),
            link=link,
        )
    )


@functools.lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    """The e-mail's templates (services/templates/): the .html one autoescaped, the .txt one not.
    Jinja2 loads on the first summary, not on every cold start."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
