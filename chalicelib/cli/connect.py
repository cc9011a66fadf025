"""`python -m chalicelib.cli connect xero|zoho`: connect the service to Xero or Zoho CRM.

Runs the OAuth authorization-code flow from this computer: a small web server on
127.0.0.1 receives the provider's redirect, the consent page opens in the browser (or
its address is printed), the answer's `state` is checked, and the code is exchanged for
a token set that is stored in the state table, where every Lambda reads it. Prints the
Xero organisation or the Zoho data centre it connected.

The redirect URI is http://localhost:8765/callback (another port with --port): register
exactly that with the Xero app or the Zoho client (docs/xero-setup.md, docs/zoho-setup.md).
Settings come from the environment as for the service; for a deployed stack, --stage dev
reads the stage's secret and table (AWS credentials needed).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import queue
import sys
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_PORT = 8765
CALLBACK_PATH = "/callback"
PROVIDER_NAMES = {"xero": "Xero", "zoho": "Zoho CRM"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "connect",
        help="connect Xero or Zoho CRM (sign in once; the service keeps the connection)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("provider", choices=sorted(PROVIDER_NAMES))
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"local port for the sign-in answer (default {DEFAULT_PORT}; 0 = any free port)",
    )
    parser.add_argument(
        "--redirect-uri",
        help="the redirect URI registered with the app, if not http://localhost:PORT/callback",
    )
    parser.add_argument(
        "--tenant", help="Xero: the organisation (tenant id) to sync when several are connected"
    )
    parser.add_argument(
        "--choose-tenant",
        metavar="TENANT_ID",
        help="Xero: sync another of the connected organisations (no new sign-in)",
    )
    parser.add_argument("--code", help="Zoho: a grant code made with a Self Client in the API console")
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in address, do not open it")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the sign-in (300)")
    parser.add_argument(
        "--stage", help="a deployed stage: TABLE_NAME and SECRETS_ID of that stack unless they are set"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(
    args: argparse.Namespace, *, open_url: Callable[[str], Any] = webbrowser.open, out: IO[str] | None = None
) -> int:
    """0 connected; 1 not connected (the reason is printed); 2 Xero needs --choose-tenant."""
    from chalicelib.errors import SyncError

    out = out or sys.stdout
    _use_stage(args.stage)
    from chalicelib.wiring import container

    services = container()
    try:
        result = _connect(services.connector, args, open_url, out)
    except SyncError as error:
        print(f"Not connected: {error.message}", file=out)
        return 1
    _report(result, args, services.settings.TABLE_NAME, out)
    return 2 if result.needs_choice else 0


def _connect(connector: Any, args: argparse.Namespace, open_url: Callable[[str], Any], out: IO[str]) -> Any:
    from chalicelib.services.connect import ConnectError

    if args.choose_tenant:
        if args.provider != "xero":
            raise ConnectError("--choose-tenant is for Xero organisations.")
        return connector.choose_tenant(args.choose_tenant)
    if args.code:
        if args.provider != "zoho":
            raise ConnectError("--code is for Zoho Self Client codes; connect Xero through the browser.")
        return connector.complete("zoho", args.code.strip(), None)
    return _browser_flow(connector, args, open_url, out)


def _browser_flow(
    connector: Any, args: argparse.Namespace, open_url: Callable[[str], Any], out: IO[str]
) -> Any:
    from chalicelib.services.connect import ConnectError, code_from_callback, new_state

    with CallbackServer(args.port) as server:
        redirect_uri = args.redirect_uri or f"http://localhost:{server.port}{CALLBACK_PATH}"
        state = new_state()
        url = connector.authorization_url(args.provider, redirect_uri, state)
        name = PROVIDER_NAMES[args.provider]
        print(
            f"Sign in to {name} and allow access. If no browser opens, open this address:\n\n  {url}\n",
            file=out,
        )
        print(f"(Waiting for {redirect_uri}; it must be registered with the {name} app.)", file=out)
        if not args.no_browser:
            open_url(url)
        params = server.wait(args.timeout)
        if params is None:
            raise ConnectError(
                f"No answer from {name} within {args.timeout:.0f} seconds; nothing was connected."
            )
    code = code_from_callback(params, state)
    return connector.complete(
        args.provider,
        code,
        redirect_uri,
        tenant_id=args.tenant,
        accounts_server=params.get("accounts-server"),
    )


def _report(result: Any, args: argparse.Namespace, table: str, out: IO[str]) -> None:
    from chalicelib.models.connect import describe

    if args.json:
        print(json.dumps(describe(result), indent=2), file=out)
        return
    print(result.message, file=out)
    if result.connected_tenant is not None:
        print(f"  tenant id: {result.connected_tenant.tenant_id}", file=out)
    if result.needs_choice:
        print("Choose the organisation to sync, for example:", file=out)
        first = result.tenants[0].tenant_id
        print(f"  python -m chalicelib.cli connect xero --choose-tenant {first}", file=out)
    for warning in result.warnings:
        print(f"Note: {warning}", file=out)
    print(f"The connection is saved in the table {table}; the service uses it from its next call.", file=out)


def _use_stage(stage: str | None) -> None:
    """A deployed stage's table and secret (names from .chalice/merge-template.yaml)."""
    if stage:
        os.environ.setdefault("TABLE_NAME", f"zoho-xero-sync-{stage}")
        os.environ.setdefault("SECRETS_ID", f"zoho-xero-sync/{stage}")


class CallbackServer:
    """A one-shot HTTP server on 127.0.0.1 that waits for the provider's redirect."""

    def __init__(self, port: int = DEFAULT_PORT) -> None:
        self._answers: queue.Queue[dict[str, str]] = queue.Queue(maxsize=1)
        self._server = HTTPServer(("127.0.0.1", port), _handler(self._answers))
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="connect-callback",
            daemon=True,
        )

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return None


def _handler(answers: queue.Queue[dict[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != CALLBACK_PATH:
                self._page(404, "Not found", "This address only receives the sign-in answer.")
                return
            try:
                answers.put_nowait(dict(parse_qsl(parts.query)))
            except queue.Full:
                self._page(409, "Already answered", "This sign-in was already answered; see the terminal.")
                return
            self._page(
                200,
                "Thank you",
                "The answer reached the command line; see the terminal. You can close this tab.",
            )

        def _page(self, status: int, title: str, text: str) -> None:
            body = f"<!doctype html><title>{html.escape(title)}</title><p>{html.escape(text)}</p>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the query holds the authorization code: never print it

    return Handler
