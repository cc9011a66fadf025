"""`python -m chalicelib.cli sync ...` / `python -m chalicelib.cli connect xero|zoho`.

Each command lives in its own module with `add_parser(subparsers)` and `run(args) -> int`;
they are imported lazily so one command's dependencies never slow the other.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "sync": "chalicelib.cli.sync",
    "connect": "chalicelib.cli.connect",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="Zoho CRM → Xero sync")
    subparsers = parser.add_subparsers(dest="command", required=True)
    modules = {name: importlib.import_module(path) for name, path in COMMANDS.items()}
    for module in modules.values():
        module.add_parser(subparsers)
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args))


if __name__ == "__main__":
    sys.exit(main())
