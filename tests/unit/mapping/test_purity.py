"""The mapping layer is pure: importing it pulls in no AWS, HTTP or Chalice code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("boto3", "botocore", "httpx", "requests", "chalice", "urllib3")


def test_importing_the_mapping_layer_loads_no_network_modules() -> None:
    code = (
        "import sys\n"
        "import chalicelib.mapping as m\n"
        "m.load_field_map()\n"
        f"print(','.join(sorted(n for n in {FORBIDDEN!r} if n in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
