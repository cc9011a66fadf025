"""Make the portal password hash: `python -m chalicelib.portal.hash_password`.

Asks for the password twice (never echoed) and prints the value for ADMIN_PASSWORD_HASH.
Put it in the service's Secrets Manager secret (or the environment); never in the repo.
`--stdin` reads one line from standard input instead, for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from chalicelib.portal.security import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, hash_password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print an ADMIN_PASSWORD_HASH for the portal.")
    parser.add_argument("--stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New portal password: ")
        if getpass.getpass("Again: ") != password:
            print("The two passwords differ; nothing was made.", file=sys.stderr)
            return 1
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Use at least {MIN_PASSWORD_CHARS} characters (a few random words are easy to type)."
    if len(password) > MAX_PASSWORD_CHARS:
        return f"Use at most {MAX_PASSWORD_CHARS} characters."
    return None


if __name__ == "__main__":
    raise SystemExit(main())
