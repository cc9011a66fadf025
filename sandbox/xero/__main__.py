"""Run the Xero stand-in: `python -m sandbox.xero --port 9001 [--host 127.0.0.1] [--no-seed]`."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from sandbox.xero import XeroSandbox, XeroSandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.xero", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--no-seed", action="store_true", help="start without the seed contacts")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
    args = parser.parse_args(argv)
    config = XeroSandboxConfig(seed=not args.no_seed, rate_limits_enabled=not args.no_rate_limits)
    app = XeroSandbox(config)
    base = f"http://{args.host}:{args.port}"
    print(f"Xero sandbox on {base}  (token URL {base}/connect/token, API {base}/api.xro/2.0)")
    print(f"client_id={config.client_id} client_secret={config.client_secret}")
    print(f"refresh_token={config.initial_refresh_token} tenant={app.tenant_id}")
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
