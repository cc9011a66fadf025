"""No secret value in the template, the Chalice config, the policies or the guides.

The credential-shaped samples below are assembled at run time from obvious repeats, so no
string in the repository itself looks like a real token to a scanner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy.package import ROOT
from sandbox.stack import LOCAL_SECRETS
from tests.packaging.conftest import Package

CONFIG_FILES = [*sorted((ROOT / ".chalice").glob("*.json")), ROOT / ".chalice" / "merge-template.yaml"]
GUIDES = [
    ROOT / "docs" / "zoho-setup.md",
    ROOT / "docs" / "xero-setup.md",
    ROOT / "docs" / "xero-webhook.md",
    *sorted((ROOT / "zoho-crm-button").glob("*")),
]
# Shapes of real credentials: Zoho tokens and grant codes (1000.<hex>.<hex>), AWS access keys,
# and any long unbroken run of token characters (Xero tokens, generated secrets, hashes).
TOKEN_SHAPES = (
    re.compile(r"\b1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}\b"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"(?<![\w/.-])[A-Za-z0-9_=-]{40,}(?![\w/.-])"),
    re.compile(r"scrypt\$\d+\$"),
)


def _problems(text: str) -> list[str]:
    found = [name for name, value in LOCAL_SECRETS.items() if value in text]
    matches = [match.group(0) for shape in TOKEN_SHAPES for match in shape.finditer(text)]
    # Random strings mix letters and digits; "------" rulers and long words do not.
    found += [m[:12] + "…" for m in matches if re.search(r"\d", m) and re.search(r"[A-Za-z]", m)]
    return found


@pytest.mark.parametrize("path", CONFIG_FILES + GUIDES, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_no_secret_in_config_or_guides(path: Path) -> None:
    assert not _problems(path.read_text()), path


def test_no_secret_in_the_built_template(built: Package) -> None:
    assert not _problems(built.template_path.read_text())


def test_the_check_recognises_a_secret() -> None:
    assert _problems('{"WEBHOOK_TOKEN": "local-webhook-token"}')
    assert _problems("refresh_token=1000." + "0a1b" * 8 + "." + "2c3d" * 8)
    assert _problems("XERO_CLIENT_SECRET=" + "Ab12" * 11)
    assert not _problems("XERO_CLIENT_SECRET=<from developer.xero.com>")
