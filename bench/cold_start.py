"""Cold start of the packaged API handler: import time and package size.

`measure(zip_path)` unzips the Lambda package (`make package` builds build/<stage>/deployment.zip)
into a temporary folder and runs `python -S -X importtime -c "import app"` there, the
first thing Lambda does for every handler. `-S` leaves site-packages out, so everything
must come from the zip itself (boto3 too: the service imports it lazily), and with no
bytecode in the zip every module is compiled, as on a real cold start.

The import time is the sum of the cumulative times of the top-level imports, the median
of `repeat` runs. Goal: under 300 ms for the API handler on this machine.

    python bench/cold_start.py [build/dev/deployment.zip] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZIP = ROOT / "build" / "dev" / "deployment.zip"
GOAL_MS = 300.0
HANDLER = "app.app"


def measure(zip_path: Path | None = None, *, repeat: int = 5, python: str = sys.executable) -> dict[str, Any]:
    """Import time and size of the packaged API handler; see the module docstring."""
    zip_path = Path(zip_path or DEFAULT_ZIP)
    if not zip_path.exists():
        raise FileNotFoundError(f"{zip_path} does not exist: run `make package` first.")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
            unzipped = sum(info.file_size for info in archive.infolist())
        runs = [_import_once(python, Path(folder)) for _ in range(max(1, repeat))]
    totals = [total for total, _ in runs]
    median = statistics.median(totals)
    modules = min(runs, key=lambda run: abs(run[0] - median))[1]
    return {
        "handler": HANDLER,
        "zip_path": str(zip_path),
        "zip_bytes": zip_path.stat().st_size,
        "unzipped_bytes": unzipped,
        "import_ms": round(median, 1),
        "import_ms_runs": [round(total, 1) for total in totals],
        "goal_ms": GOAL_MS,
        "within_goal": median < GOAL_MS,
        "modules": {name: round(entry["cumulative"], 2) for name, entry in modules.items()},
        "packages": _by_package(modules),
    }


def _import_once(python: str, folder: Path) -> tuple[float, dict[str, dict[str, float]]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        # What Lambda would have: a service name, no AWS access needed to import.
        "POWERTOOLS_SERVICE_NAME": "zoho-xero-sync",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [python, "-S", "-X", "importtime", "-c", "import app"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`import app` failed inside the package:\n{result.stderr[-3000:]}")
    return _parse(result.stderr)


def _parse(stderr: str) -> tuple[float, dict[str, dict[str, float]]]:
    """`import time: self | cumulative | name` lines; nesting is two spaces per level."""
    total = 0.0
    modules: dict[str, dict[str, float]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, name = line.split("|", 2)
        self_ms = float(own.split(":", 1)[1]) / 1000
        cumulative_ms = float(cumulative) / 1000
        top_level = not name[1:].startswith(" ")
        modules[name.strip()] = {"self": self_ms, "cumulative": cumulative_ms}
        if top_level:
            total += cumulative_ms
    return total, modules


def _by_package(modules: dict[str, dict[str, float]]) -> dict[str, float]:
    packages: dict[str, float] = {}
    for name, entry in modules.items():
        top = name.split(".", 1)[0]
        packages[top] = packages.get(top, 0.0) + entry["self"]
    return {name: round(ms, 1) for name, ms in sorted(packages.items(), key=lambda item: -item[1])}


def print_table(result: dict[str, Any], top: int = 10) -> None:
    verdict = "within" if result["within_goal"] else "OVER"
    print(f"Cold start of the packaged API handler ({result['zip_path']})")
    print(f"  {'zip size':<28}{result['zip_bytes'] / 1_000_000:>8.1f} MB")
    print(f"  {'unzipped':<28}{result['unzipped_bytes'] / 1_000_000:>8.1f} MB")
    print(
        f"  {'import app':<28}{result['import_ms']:>8.1f} ms   median of {len(result['import_ms_runs'])};"
        f" {verdict} the {result['goal_ms']:.0f} ms goal"
    )
    print("  import time by package (own time, ms):")
    for name, ms in list(result["packages"].items())[:top]:
        print(f"    {name:<26}{ms:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import time and size of the packaged API handler.")
    parser.add_argument("zip", nargs="?", type=Path, default=DEFAULT_ZIP)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print_table(measure(args.zip, repeat=args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
