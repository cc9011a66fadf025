"""`make soak`: does `make run`'s stack stay small and fast through an afternoon of bulk runs?

    python -m bench.soak [--runs 10] [--accounts 1000] [--clicks 1000] [--out bench/results.json]

Starts the stack exactly as `make run` does (`python -m sandbox.stack`, its own process, free
ports), has the Zoho stand-in generate N synthetic Accounts (`POST /__sandbox__/generate`:
1-4 contacts each, ~4% invalid), then `--runs` times in a row: a bulk run of every Account
(`POST /sync/runs {"window": "all"}`, the CLI's `--all`) watched to its end, followed by an
equal share of the `--clicks` button clicks pressed through the Zoho stand-in
(`POST /__sandbox__/button/{id}`, signed like the Deluge button). One Account in 20 is edited
in Zoho before its click, so clicks create, update and find nothing changed. Run 1 is the
first full sync from an empty Xero; runs 2.. find nothing changed.

How each figure is measured:
- wall time of a run: from the POST that starts it to the poll that sees it finished
  (polled every 0.25 s), on this machine, with the stand-ins answering in milliseconds.
- peak RSS per run: the kernel's high-water mark (VmHWM in /proc/PID/status) of the stack
  process, reset before each run (`5` into /proc/PID/clear_refs) and read after its clicks;
  everything lives in that one process: moto, both stand-ins, the app and its queue workers.
  The soak driver's own peak (ru_maxrss) is reported too.
- growth: (peak RSS of the last run - peak RSS of run 2) / peak RSS of run 2; run 1 is the
  first sync and builds the table, so it is the warm-up.
- table items: the items in the stack's DynamoDB table after the run and its clicks, by
  kind (`entity`), counted by a Scan after the memory figures are read.
- clicks: each click's round trip through the Zoho stand-in to our webhook and back.
- the Xero stand-in's own rate limits are raised (as in `make bench`) so no run waits out a
  Xero minute window; our budget keeps its defaults.
- Xero calls: the Xero stand-in's calls by endpoint during the run and its clicks (webhook
  echo reads included). `--no-xero-webhooks` unsubscribes the app from the stand-in's webhooks
  (what `make run` subscribes), to measure what Xero's events for our own writes cost a run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "local-admin-token"  # sandbox.stack's LOCAL_SECRETS
TABLE_NAME = os.environ.get("TABLE_NAME", "zoho-xero-sync")  # the stack reads the same variable
TARGETS = {
    "peak_rss_mb": 1024,
    "growth_run2_to_last_pct": 10,
    "first_run_s": 30,
    "unchanged_rerun_s": 15,
}
EDIT_EVERY = 20  # one click in 20 follows an edit in Zoho


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StackProcess:
    """`make run`'s stack in its own process (what `make run` starts), on free ports."""

    def __init__(self, log_path: Path) -> None:
        self.ports = {name: free_port() for name in ("PORT", "XERO_PORT", "ZOHO_PORT", "MOTO_PORT")}
        self.app_url = f"http://127.0.0.1:{self.ports['PORT']}"
        self.xero_url = f"http://127.0.0.1:{self.ports['XERO_PORT']}"
        self.zoho_url = f"http://127.0.0.1:{self.ports['ZOHO_PORT']}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120) -> StackProcess:
        env = {**os.environ, **{k: str(v) for k, v in self.ports.items()}}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.stack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        ends = time.monotonic() + timeout_s
        while time.monotonic() < ends:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited ({self.process.returncode}); see {self.log_path}")
            try:
                if httpx.get(f"{self.app_url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"the stack did not answer within {timeout_s} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def reset_peak(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def memory_mb(self) -> dict[str, float]:
        status = Path(f"/proc/{self.pid}/status").read_text()
        values = {}
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = round(int(rest.split()[0]) / 1024, 1)
        return {"peak_rss_mb": values["VmHWM"], "rss_mb": values["VmRSS"]}

    def table_items(self) -> dict[str, int]:
        """Items in the stack's DynamoDB table by kind (`entity`): what each run leaves behind."""
        import boto3

        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{self.ports['MOTO_PORT']}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        counts: dict[str, int] = {}
        args: dict[str, Any] = {"TableName": TABLE_NAME, "ProjectionExpression": "entity"}
        while True:
            page = client.scan(**args)
            for item in page.get("Items", []):
                kind = item.get("entity", {}).get("S", "other")
                counts[kind] = counts.get(kind, 0) + 1
            if "LastEvaluatedKey" not in page:
                return dict(sorted(counts.items()))
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def cpu_s(self) -> float:
        """CPU seconds the stack process has used (user + system): wall time depends on what
        else the machine runs, this does not."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        """SIGINT (Ctrl-C) and wait; returns how long the stack took to exit."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return round(time.monotonic() - started, 2)


def run_to_end(api: httpx.Client, limit_s: float = 1800) -> dict[str, Any]:
    started = time.monotonic()
    response = api.post("/sync/runs", json={"window": "all"})
    response.raise_for_status()
    run_id = response.json()["run_id"]
    waiting_polls = 0  # polls that saw the run paused for Xero's (or our) rate limit
    while time.monotonic() - started < limit_s:
        run = api.get(f"/sync/runs/{run_id}").json()
        waiting_polls += run["state"] == "waiting"
        if run["state"] in ("completed", "completed_with_errors", "failed"):
            return {
                "wall_s": round(time.monotonic() - started, 2),
                "state": run["state"],
                "counts": run["counts"],
                "seen_waiting_s": waiting_polls * 0.25,
            }
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish within {limit_s} s")


def press_buttons(zoho: httpx.Client, account_ids: list[str], first: int, count: int) -> dict[str, Any]:
    """`count` clicks on consecutive Accounts from index `first` (wrapping round)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    for n in range(count):
        index = (first + n) % len(account_ids)
        account_id = account_ids[index]
        if index % EDIT_EVERY == 0:
            zoho.patch(
                f"/__sandbox__/records/Accounts/{account_id}", json={"Phone": f"+61 2 4782 {first + n:04d}"}
            )
        started = time.monotonic()
        response = zoho.post(f"/__sandbox__/button/{account_id}")
        latencies.append((time.monotonic() - started) * 1000)
        outcome = _click_outcome(response)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    latencies.sort()
    return {
        "clicks": count,
        "outcomes": dict(sorted(outcomes.items())),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
    }


def _click_outcome(response: httpx.Response) -> str:
    """What our webhook answered the button (the stand-in passes its status and body on)."""
    if response.status_code != 200:
        return f"stand-in HTTP {response.status_code}"
    delivered = response.json()
    if delivered.get("status_code") not in (200, 202):
        return f"HTTP {delivered.get('status_code')}"
    try:
        body = json.loads(delivered.get("body") or "{}")
    except ValueError:
        return "unreadable"
    return str(body.get("action") or body.get("status") or "answered")


def xero_calls(xero_url: str) -> dict[str, int]:
    """The Xero stand-in's call counts by endpoint since the last call of this, then cleared."""
    counts = httpx.get(f"{xero_url}/__sandbox__/calls", timeout=30).json()["counts"]
    httpx.delete(f"{xero_url}/__sandbox__/calls", timeout=30).raise_for_status()
    return dict(sorted(counts.items()))


def soak(
    runs: int, accounts: int, clicks: int, log_path: Path, *, xero_webhooks: bool = True
) -> dict[str, Any]:
    stack = StackProcess(log_path).start()
    try:
        httpx.post(
            f"{stack.xero_url}/__sandbox__/config",
            json={"minute_limit": 1_000_000, "day_limit": 10_000_000, "app_minute_limit": 1_000_000},
            timeout=30,
        ).raise_for_status()
        if not xero_webhooks:
            httpx.delete(f"{stack.xero_url}/__sandbox__/webhooks", timeout=30).raise_for_status()
        with (
            httpx.Client(
                base_url=stack.app_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
            ) as api,
            httpx.Client(base_url=stack.zoho_url, timeout=60) as zoho,
        ):
            zoho.post("/__sandbox__/generate", json={"accounts": accounts, "seed": 7}).raise_for_status()
            account_ids = [r["id"] for r in zoho.get("/__sandbox__/records/Accounts").json()["data"]]
            started_mb = stack.memory_mb()
            per_run = clicks // runs
            results = []
            xero_calls(stack.xero_url)
            for number in range(1, runs + 1):
                stack.reset_peak()
                cpu = stack.cpu_s()
                run = run_to_end(api)
                run["stack_cpu_s"] = round(stack.cpu_s() - cpu, 2)
                click = press_buttons(zoho, account_ids, (number - 1) * per_run, per_run)
                memory = stack.memory_mb()
                items = stack.table_items()
                calls = xero_calls(stack.xero_url)
                results.append(
                    {
                        "run": number,
                        **run,
                        "clicks": click,
                        **memory,
                        "table_items": items,
                        "xero_calls": calls,
                    }
                )
                print(_row(results[-1]), flush=True)
        stop_s = stack.stop()
    finally:
        stack.stop()
    return {
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "xero_webhooks": xero_webhooks,
        "accounts_generated": accounts,
        "accounts_in_zoho": len(account_ids),
        "stack_rss_at_start_mb": started_mb["rss_mb"],
        "runs": results,
        "summary": _summary(results),
        "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stack_stopped_in_s": stop_s,
    }


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    peaks = [r["peak_rss_mb"] for r in results]
    second = results[1]["peak_rss_mb"] if len(results) > 1 else results[0]["peak_rss_mb"]
    reruns = [r["wall_s"] for r in results[1:]] or [0.0]
    summary = {
        "peak_rss_mb": max(peaks),
        "growth_run2_to_last_pct": round((results[-1]["peak_rss_mb"] - second) * 100 / second, 1),
        "first_run_s": results[0]["wall_s"],
        "unchanged_rerun_s": max(reruns),
        "unchanged_rerun_median_s": statistics.median(reruns),
    }
    summary["met"] = {
        "peak_rss_mb": summary["peak_rss_mb"] < TARGETS["peak_rss_mb"],
        "growth_run2_to_last_pct": summary["growth_run2_to_last_pct"] < TARGETS["growth_run2_to_last_pct"],
        "first_run_s": summary["first_run_s"] < TARGETS["first_run_s"],
        "unchanged_rerun_s": summary["unchanged_rerun_s"] < TARGETS["unchanged_rerun_s"],
    }
    return summary


def _row(r: dict[str, Any]) -> str:
    c = r["clicks"]
    return (
        f"run {r['run']:>2}: {r['wall_s']:>6.1f} s (stack CPU {r['stack_cpu_s']:>5.1f} s)  {r['state']:<22} peak RSS {r['peak_rss_mb']:>7.1f} MB"
        f"  RSS {r['rss_mb']:>7.1f} MB  clicks {c['clicks']} p50 {c['p50_ms']} ms p95 {c['p95_ms']} ms"
        f"  {c['outcomes']}  items {sum(r['table_items'].values())} {r['table_items']}"
        f"  xero calls {r['xero_calls']}"
    )


def table(soak_results: dict[str, Any]) -> str:
    lines = [
        "| run | wall time | stack CPU | state | stack peak RSS | clicks | click p50 / p95 |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in soak_results["runs"]:
        c = r["clicks"]
        lines.append(
            f"| {r['run']} | {r['wall_s']:.1f} s | {r['stack_cpu_s']:.1f} s | {r['state']} | {r['peak_rss_mb']:.0f} MB | {c['clicks']} "
            f"| {c['p50_ms']} / {c['p95_ms']} ms |"
        )
    s = soak_results["summary"]
    lines += [
        "",
        f"Peak RSS {s['peak_rss_mb']:.0f} MB (target < {TARGETS['peak_rss_mb']}), growth run 2 → "
        f"{len(soak_results['runs'])} {s['growth_run2_to_last_pct']} % (< {TARGETS['growth_run2_to_last_pct']}), "
        f"first run {s['first_run_s']} s (< {TARGETS['first_run_s']}), slowest unchanged rerun "
        f"{s['unchanged_rerun_s']} s (< {TARGETS['unchanged_rerun_s']}); soak driver peak "
        f"{soak_results['driver_peak_rss_mb']:.0f} MB; the stack stopped {soak_results['stack_stopped_in_s']} s "
        "after Ctrl-C.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--log", default=str(ROOT / "build" / "soak-stack.log"))
    parser.add_argument(
        "--no-xero-webhooks",
        action="store_true",
        help="unsubscribe the app from the Xero stand-in's webhooks (measures what echo events cost)",
    )
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2 (growth is measured from run 2)")
    result = {
        "method": __doc__.split("\n\n", 2)[2].strip(),
        "targets": TARGETS,
        **soak(
            args.runs, args.accounts, args.clicks, Path(args.log), xero_webhooks=not args.no_xero_webhooks
        ),
    }
    out = Path(args.out)
    everything = json.loads(out.read_text()) if out.exists() else {}
    everything["soak"] = result
    out.write_text(json.dumps(everything, indent=2) + "\n")
    print(table(result))
    print(f'\nwritten to {out} (key "soak")')
    return 0 if all(result["summary"]["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
