"""The README stays true: what a newcomer reads there is what the code does.

- the seeded Accounts table is the one `sandbox/seed_data.py` makes (`python -m sandbox.seed_data`);
- every setting (chalicelib/settings.py) is documented, and every documented variable exists;
- the command line's exit codes are each explained, and nothing else is;
- the Layout section names every top-level folder and every folder of chalicelib/ and tests/.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from chalicelib.settings import Settings
from sandbox import seed_data

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Where a variable the README documents may be read when it is not a Settings field.
READERS = [ROOT / "app.py", ROOT / "Makefile", *(ROOT / d for d in ("chalicelib", "sandbox", "deploy"))]


def section(title: str) -> str:
    """The text under a `## title` (or `###`) heading, up to the next heading of that level or above.

    Lines in fenced code blocks are never headings (shell comments start with `#` too)."""
    lines, fenced, level, found = README.splitlines(), False, 0, []
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"(#+) (.*)", line) if not fenced else None
        if level and heading and len(heading.group(1)) <= level:
            break
        if level:
            found.append(line)
        elif heading and heading.group(2) == title:
            level = len(heading.group(1))
    assert level, f"the README has no section {title!r}"
    return "\n".join(found)


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text` whose first header cell is `first_header`."""
    rows: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            inside = False
        elif cells[0] == first_header:
            inside = True
        elif inside and not set(cells[0]) <= {"-", " ", ":"}:
            rows.append(cells)
    return rows


# --- seeded Accounts -------------------------------------------------------------------------


def test_the_seeded_accounts_table_is_the_seed() -> None:
    expected = seed_data.readme_table()
    assert expected in section("Seeded Accounts"), (
        "README's Seeded Accounts table differs from sandbox/seed_data.py; paste the output of "
        "`python -m sandbox.seed_data`:\n" + expected
    )


def test_the_seeded_accounts_table_has_one_row_per_account_with_its_outcome() -> None:
    rows = table_rows(section("Seeded Accounts"), "Account id")
    assert [r[0].strip("`") for r in rows] == [a["id"] for a in seed_data.ZOHO_ACCOUNTS]
    assert all(r[2].split(":")[0] in ("created", "updated", "rejected") for r in rows)
    assert f"the {len(seed_data.ZOHO_ACCOUNTS)}\n  Accounts below" in README


# --- configuration ---------------------------------------------------------------------------


def documented_variables() -> set[str]:
    rows = table_rows(README, "variable") + table_rows(README, "portal setting")
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row[0])}


def test_every_setting_is_documented() -> None:
    missing = set(Settings.model_fields) - documented_variables()
    assert not missing, f"settings missing from the README's Configuration table: {sorted(missing)}"


def test_every_documented_variable_is_read_somewhere() -> None:
    """No stale rows: a variable that is not a setting must at least be read by our code (or boto3)."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for place in READERS
        for path in ([place] if place.is_file() else sorted(place.rglob("*.py")))
    )
    stale = {
        name
        for name in documented_variables() - set(Settings.model_fields)
        if f'"{name}"' not in sources and f"$({name})" not in sources
    }
    assert not stale, f"the README documents variables nothing reads: {sorted(stale)}"


def test_the_table_check_sees_the_tables() -> None:
    assert {"WEBHOOK_TOKEN", "ADMIN_PASSWORD_HASH", "AWS_ENDPOINT_URL"} <= documented_variables()


# --- the command line ------------------------------------------------------------------------


def returned_codes(path: Path, function: str) -> set[int]:
    """Every whole number `function` in `path` returns directly (`return 2 if x else 0` too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    [node] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    codes = set()
    for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None):
        for value in ast.walk(ret.value):
            if isinstance(value, ast.Constant) and isinstance(value.value, int):
                codes.add(value.value)
    return codes


def test_every_exit_code_is_explained() -> None:
    from chalicelib.cli import sync

    sync_codes = {value for name, value in vars(sync).items() if name.startswith("EXIT_")}
    connect_codes = returned_codes(ROOT / "chalicelib/cli/connect.py", "run")
    rows = table_rows(section("The command line"), "exit code")
    explained = {int(r[0]) for r in rows}

    assert sync_codes == {0, 1, 2, 130}  # the scan works
    assert explained == sync_codes | connect_codes | {2}  # 2: argparse's bad usage, for every command
    assert all(r[1] for r in rows if int(r[0]) in sync_codes)
    assert all(r[2] for r in rows if int(r[0]) in connect_codes)
    assert "cannot be reached" in next(r[1] for r in rows if r[0] == "2")


def test_the_command_line_says_where_it_finds_the_service() -> None:
    text = section("The command line")
    for source in ("--url", "SYNC_SERVICE_URL", "$PORT"):
        assert source in text


# --- layout ----------------------------------------------------------------------------------


def tracked_folders() -> set[str]:
    """Folders with files in git: top level, and the first level inside chalicelib/ and tests/."""
    try:
        files = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("git ls-files did not run: the Layout check needs the repository")
    folders = set()
    for name in files:
        parts = name.split("/")
        if len(parts) > 1:
            folders.add(parts[0] + "/")
        if len(parts) > 2 and parts[0] in ("chalicelib", "tests"):
            folders.add(f"{parts[0]}/{parts[1]}/")
    return folders


def test_layout_names_every_folder() -> None:
    layout = section("Layout")
    top = {f for f in tracked_folders() if f.count("/") == 1}
    inner = {f for f in tracked_folders() if f.count("/") == 2}

    assert {"chalicelib/", "tests/", "sandbox/"} <= top  # the listing works
    missing = {f for f in top if not re.search(rf"^{re.escape(f)}\s", layout, re.M)}
    missing |= {f for f in inner if f.split("/")[1] + "/" not in layout}
    assert not missing, f"the README's Layout does not mention: {sorted(missing)}"
