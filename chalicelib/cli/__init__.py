"""Operator command line: `python -m chalicelib.cli <command>` (sync, connect)."""
