"""`make bench` works: the bench code at a tiny size (no timed assertions).

It runs in a child process: the bench starts its own LocalStack, which must not meet this
package's running stack in the same environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_ENV = ("AWS_ENDPOINT_URL", "XERO_API_URL", "XERO_IDENTITY_URL", "ZOHO_ACCOUNTS_URL", "TABLE_NAME")


def test_bench_at_twenty_accounts_writes_results_and_a_table(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in STACK_ENV and not k.endswith("_QUEUE_URL")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--sizes",
            "20",
            "--clicks",
            "6",
            "--no-cold-start",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "first full sync" in done.stdout and "button clicks" in done.stdout
    results = json.loads(out.read_text())
    [bulk] = results["bulk"]
    first, again = bulk["first_full_sync"], bulk["nothing_changed"]
    assert 0 < first["counts"]["selected"] <= 20
    assert first["counts"]["created"] > 0 and first["xero_writes"] > 0
    assert again["counts"]["created"] == again["counts"]["updated"] == 0
    assert again["xero_writes"] == 0  # nothing changed: nothing written to Xero
    from_xero = bulk["xero_to_zoho"]  # the linked contacts edited in Xero, then a xero_to_zoho run
    assert from_xero["counts"]["updated"] == from_xero["changed_in_xero"] > 0
    assert from_xero["xero_calls"] <= 3
    assert bulk["batch_worker_peak_mb"] is not None
    assert results["clicks"]["all"]["clicks"] == 6
    both = results["both"]  # a `both` run over the linked pairs, then the same run again
    assert both["both_run"]["counts"]["updated"] > 0 and both["both_run"]["counts"]["failed"] == 0
    assert both["rerun"]["xero_writes"] == both["rerun"]["zoho_writes"] == 0
