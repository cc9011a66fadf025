"""`python -m chalicelib.cli sync`: start a bulk run through the admin API and watch it.

    python -m chalicelib.cli sync --since-last-run | --days N | --all | --retry RUN_ID  [--dry-run]

Talks to the service at --url, else $SYNC_SERVICE_URL, else http://127.0.0.1:$PORT (the
local stack, `make run`; PORT defaults to 8000), with the admin token (--token, or
ADMIN_TOKEN). Shows a live progress bar on stderr, then a summary table and every problem
on stdout. A retry of a dry run is a dry run; --retry RUN_ID --dry-run only reports too.
Exit code: 0 completed; 1 completed with problems, or failed; 2 refused (bad usage, wrong
token, bad request, no such run, another run in progress) or the service cannot be
reached; 130 stopped watching with Ctrl-C (the run goes on).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import closing
from datetime import datetime
from typing import IO, Any

import requests

DEFAULT_PORT = "8000"
COUNT_NAMES = ("selected", "created", "updated", "unchanged", "rejected", "failed")
BAR_WIDTH = 24
# Exit codes (the README's command-line section lists each one).
EXIT_COMPLETED = 0
EXIT_PROBLEMS = 1  # completed with rejected or failed Accounts, or the run failed
EXIT_REFUSED = 2  # bad usage, the API said no, or the service cannot be reached
EXIT_INTERRUPTED = 130  # Ctrl-C while watching; the run goes on on the server
FINISHED = {"completed": EXIT_COMPLETED, "completed_with_errors": EXIT_PROBLEMS, "failed": EXIT_PROBLEMS}


class Refused(Exception):
    """The API said no (or could not be reached); the message is what the user should read."""


class ServiceApi:
    """The service's admin API at `base_url`, with the same headers on every request."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(headers)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.base_url + path
        return self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)

    def close(self) -> None:
        self.session.close()


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="start a bulk sync run and watch it to the end",
        description=__doc__.split("\n\n")[2],
    )
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--since-last-run", action="store_true", help="Accounts changed since the last run")
    window.add_argument("--days", type=int, metavar="N", help="Accounts changed in the last N days (1-30)")
    window.add_argument("--all", action="store_true", help="every Account with Add to Xero ticked")
    window.add_argument("--retry", metavar="RUN_ID", help="re-run only the failed and rejected Accounts")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument(
        "--direction",
        choices=("zoho_to_xero", "xero_to_zoho", "both"),
        default="zoho_to_xero",
        help="zoho_to_xero (default): Accounts into Xero; xero_to_zoho: Xero's changed contacts into Zoho CRM; "
        "both: both sides' changes merged (CONFLICT_POLICY settles a field both changed)",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="the service's address (default: $SYNC_SERVICE_URL, else http://127.0.0.1:$PORT, PORT 8000)",
    )
    parser.add_argument("--token", default=None, help="the admin token (default: $ADMIN_TOKEN)")
    parser.add_argument("--no-wait", action="store_true", help="start the run and exit without watching it")
    # Tests poll faster than a person needs to.
    parser.add_argument("--poll-seconds", type=float, default=1.0, help=argparse.SUPPRESS)


def service_url(given: str | None, environ: Any = os.environ) -> str:
    """--url, else SYNC_SERVICE_URL (SYNC_API_URL, its older name), else the local stack on PORT."""
    url = given or environ.get("SYNC_SERVICE_URL") or environ.get("SYNC_API_URL")
    return url or f"http://127.0.0.1:{environ.get('PORT') or DEFAULT_PORT}"


def run(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    token = args.token or os.environ.get("ADMIN_TOKEN")
    if not token:
        print("No admin token: pass --token or set ADMIN_TOKEN.", file=err)
        return EXIT_REFUSED
    if not (args.retry or args.since_last_run or args.all or args.days is not None):
        print("Say which Accounts to sync: --since-last-run, --days N, --all or --retry RUN_ID.", file=err)
        return EXIT_REFUSED
    headers = {"Authorization": f"Bearer {token}", "X-Run-Trigger": "cli"}
    with closing(ServiceApi(service_url(args.url), headers)) as api:
        try:
            started = _start(api, args)
            dry = " (dry run: nothing will be written)" if started.get("dry_run") else ""
            print(f"Run {started['run_id']} started: {started.get('window', '')}{dry}.", file=err)
            if args.no_wait:
                print(started["run_id"], file=out)
                return EXIT_COMPLETED
            clock = time.monotonic()
            final = _watch(api, started["run_id"], args.poll_seconds, err)
            problems = _all_problems(api, final)
        except Refused as refused:
            print(str(refused), file=err)
            return EXIT_REFUSED
        except KeyboardInterrupt:
            print("\nStopped watching; the run goes on on the server.", file=err)
            return EXIT_INTERRUPTED
    _summary(final, problems, time.monotonic() - clock, out)
    return FINISHED.get(final["state"], EXIT_PROBLEMS)


def _start(api: ServiceApi, args: argparse.Namespace) -> dict[str, Any]:
    if args.retry:
        body = {"dry_run": True} if args.dry_run else {}
        return _call(api, "POST", f"/sync/runs/{args.retry}/retry", json=body)
    window: Any = "all" if args.all else "since_last_run" if args.since_last_run else {"days": args.days}
    body = {"window": window, "dry_run": bool(args.dry_run), "direction": args.direction}
    return _call(api, "POST", "/sync/runs", json=body)


def _call(api: ServiceApi, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = api.request(method, path, **kwargs)
    except requests.RequestException as error:
        raise Refused(
            f"Could not reach the sync service at {api.base_url} ({_why(error)}). Is it running (`make run`)? "
            "Pass its address with --url or SYNC_SERVICE_URL."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        message = body.get("message") if isinstance(body, dict) else None
        raise Refused(message or f"The sync service answered {response.status_code} to {method} {path}.")
    return dict(body)


def _why(error: BaseException) -> str:
    """The root cause in a few words ("Connection refused"), not urllib3's pool description."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
        cause = cause.__cause__ or getattr(cause, "reason", None) or cause.__context__
    return str(error)


def _watch(api: ServiceApi, run_id: str, poll_seconds: float, err: IO[str]) -> dict[str, Any]:
    live = err.isatty()
    last = ""
    while True:
        body = _call(api, "GET", f"/sync/runs/{run_id}")
        line = progress_line(body)
        if line != last:
            # On a terminal one line redraws itself; in a log each change is its own line.
            print(("\r\033[K" + line) if live else line, end="" if live else "\n", file=err, flush=True)
            last = line
        if body["state"] in FINISHED:
            if live:
                print(file=err)
            return body
        time.sleep(poll_seconds)


def progress_line(body: dict[str, Any]) -> str:
    progress, counts = body.get("progress", {}), body.get("counts", {})
    done, total = progress.get("batches_done", 0), progress.get("batches_total", 0)
    filled = int(BAR_WIDTH * done / total) if total else 0
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    planned = "" if progress.get("planning_done") else "+ (planning)"
    tally = " ".join(f"{name} {counts.get(name, 0)}" for name in COUNT_NAMES[1:])
    state = body.get("state", "")
    if state == "waiting":
        state = f"waiting for Xero's rate limit until {_clock(body.get('resume_at'))}"
    return f"[{bar}] {done}/{total}{planned} batches | {tally} | {state}"


def _clock(value: str | None) -> str:
    if not value:
        return "it resets"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone().strftime("%H:%M")
    except ValueError:
        return value


def _all_problems(api: ServiceApi, run: dict[str, Any]) -> list[dict[str, Any]]:
    problems = list(run.get("problems", []))
    cursor = run.get("problems_next_cursor")
    while cursor:
        page = _call(api, "GET", f"/sync/runs/{run['run_id']}/problems", params={"cursor": cursor})
        problems.extend(page.get("accounts", []))
        cursor = page.get("next_cursor")
    return problems


def _summary(run: dict[str, Any], problems: list[dict[str, Any]], watched: float, out: IO[str]) -> None:
    title = run["state"].replace("_", " ")
    dry = " (dry run: nothing was written)" if run.get("dry_run") else ""
    print(f"\nRun {run['run_id']}: {title}{dry}", file=out)
    print(f"  window       {run.get('window', '')}", file=out)
    print(f"  started by   {run.get('origin', '')}", file=out)
    counts, calls = run.get("counts", {}), run.get("calls", {})
    rows = [(name, counts.get(name, 0)) for name in COUNT_NAMES]
    rows += [("Xero calls", calls.get("xero", 0)), ("Zoho calls", calls.get("zoho", 0))]
    rows += [("Zoho credits", run.get("credits", {}).get("zoho", 0))]
    for name, value in rows:
        print(f"  {name:<12} {value:>8}", file=out)
    print(f"  {'duration':<12} {_duration(run, watched):>8}", file=out)
    if run.get("message"):
        print(f"  {run['message']}", file=out)
    if run.get("dead_letters"):
        print(f"  {run['dead_letters']} batch message(s) in the dead-letter queue", file=out)
    if not problems:
        return
    print(f"\nProblems ({len(problems)}):", file=out)
    id_width = max(10, *(len(str(p.get("account_id", ""))) for p in problems))
    name_width = min(40, max(4, *(len(str(p.get("account_name", ""))) for p in problems)))
    print(f"  {'ACCOUNT ID':<{id_width}}  {'NAME':<{name_width}}  MESSAGE", file=out)
    for problem in problems:
        name = str(problem.get("account_name", ""))[:name_width]
        message = problem.get("message") or problem.get("result", "")
        print(f"  {problem.get('account_id', ''):<{id_width}}  {name:<{name_width}}  {message}", file=out)


def _duration(run: dict[str, Any], watched: float) -> str:
    """The run's own duration (the API gives it to a tenth of a second), else how long we watched."""
    seconds = run.get("duration_seconds")
    if not isinstance(seconds, int | float):
        seconds = watched
    minutes, secs = divmod(max(0.0, round(float(seconds), 1)), 60)
    return f"{int(minutes)}m {secs:04.1f}s" if minutes else f"{secs:.1f}s"
