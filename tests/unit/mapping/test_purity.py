"""The mapping layer and the sync's decisions are pure: importing them (and loading the map)
pulls in no AWS, HTTP or Chalice code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("boto3", "botocore", "httpx", "requests", "chalice", "urllib3")


@pytest.mark.parametrize(
    "imports",
    [
        "import chalicelib.mapping as m\nm.load_field_map()\n",
        "import chalicelib.services.sync.decide, chalicelib.services.sync.messages\n",
    ],
    ids=["mapping", "sync decisions"],
)
def test_importing_it_loads_no_network_modules(imports: str) -> None:
    code = (
        "import sys\n" + imports + f"print(','.join(sorted(n for n in {FORBIDDEN!r} if n in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
