"""Run the Zoho stand-in on its own: python -m sandbox.zoho --port 9002."""

from __future__ import annotations

import argparse
import contextlib

from werkzeug.serving import make_server

from . import ZohoSandbox, ZohoSandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.zoho", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9002)
    parser.add_argument("--no-seed", action="store_true", help="start with no records")
    parser.add_argument("--webhook-url", help="where workflow rules and the button send webhooks")
    parser.add_argument("--webhook-token", help="X-Webhook-Token value and HMAC key")
    parser.add_argument("--webhook-format", choices=("json", "form"), default="json")
    args = parser.parse_args(argv)
    config = ZohoSandboxConfig(
        seed=not args.no_seed,
        webhook_url=args.webhook_url,
        webhook_token=args.webhook_token,
        webhook_format=args.webhook_format,
    )
    server = make_server(args.host, args.port, ZohoSandbox(config), threaded=True)
    base = f"http://{args.host}:{server.server_port}"
    print(f"Zoho stand-in on {base}  (admin: {base}/__sandbox__/)")
    print(f"client_id={config.client_id} client_secret={config.client_secret}")
    print(f"refresh_token={config.refresh_token}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
