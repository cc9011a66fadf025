"""`make bench`: bulk runs and button clicks against the in-process sandbox.

    python -m bench.run [--sizes 1000,10000] [--clicks 200] [--out bench/results.json]

For each size: a LocalStack (moto, Zoho and Xero stand-ins, the Chalice app) with no seed data,
N synthetic Zoho Accounts (ZohoSandbox.generate: 1-4 contacts each, ~4% invalid), a full
`{"window": "all"}` run from empty Xero, then the same run again with nothing changed.

How each figure is measured:
- calls: from the stand-ins' own call logs (every request they answered, token calls included);
  "Xero writes" are POST/PUT to the Accounting API. Zoho credits: what the Zoho stand-in's meter
  charged (Zoho's credit table, sandbox/zoho/limits.py); the run reports its own count beside it.
- projected Xero time: the stand-in's rate limits are OFF (and our own budget's minute/day
  limits raised in-process) so the bench is not minutes of sleeping; the time Xero would
  impose is then max(calls / 60 per minute, calls / 5 concurrent * XERO_LATENCY_S), with an
  assumed real Xero latency of XERO_LATENCY_S per call (a 50-contact POST is the slow one).
- our CPU: time.thread_time() around every run_worker handler call (plan steps and batches),
  summed. The stand-ins and moto answer in their own server threads, so they are excluded;
  our HTTP/boto3 client work is included.
- plan worker memory: the same for the first PLAN_PROBES plan steps (Xero's index pages, the
  first Zoho page), their CPU kept in the CPU figure (an upper bound).
- batch worker memory: tracemalloc peak while the first batch handler call of the first run
  ran alone (no other worker in flight; process-wide Python allocations, so the stand-ins'
  work for that batch counts too: an upper bound), plus the bench process's peak RSS
  (everything: moto, stand-ins, N records) for scale. That probed batch's CPU, inflated by
  tracemalloc, is left out of the CPU figure together with its 50 Accounts.
- moto: the stack's moto is fitted by sandbox/moto_fit.py (transactions copy only the items
  they write, no retained model instances), as under `make run`; it answers in its own
  server thread, so it is not in our CPU either way.
- clicks: the button webhook over HTTP; our CPU is time.thread_time() inside the route's view
  in the app server's request thread; calls per click are call-log deltas (clicks in sequence).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
XERO_MINUTE_LIMIT = 60
XERO_CONCURRENT = 5
XERO_LATENCY_S = 1.0  # assumed real Xero latency per call (the stand-in answers in milliseconds)
BATCH_SIZE = 50  # RUN_BATCH_SIZE: Accounts per batch message
RUN_WORKERS = 5  # Lambda runs up to 5 run workers at once (Xero allows 5 concurrent calls)
ADMIN_TOKEN = "local-admin-token"
PLAN_PROBES = 3  # plan steps measured with tracemalloc (their CPU is left out like the batch's)
ROOMY_MINUTE, ROOMY_DAY = 1_000_000, 10_000_000  # limits that never bind: the time is projected instead
TARGETS = {
    "xero_calls_per_1000_first": 21,
    "zoho_calls_per_1000_first": 20,
    "zoho_calls_per_1000_unchanged": 5,
    "xero_writes_unchanged": 0,
    "projected_minutes_10000": 4.0,
    "cpu_ms_per_account": 2.0,
    "batch_worker_mb": 256,
    "xero_to_zoho_1000_xero_calls": 3,
    "xero_to_zoho_1000_zoho_calls": 60,
}


class Meter:
    """Wraps the app's run_worker: sums our CPU per handler call and probes one batch's memory.

    The probe runs alone (the other workers wait for it, and it waits for calls in flight) so
    tracemalloc neither counts their allocations nor slows them; its own CPU, inflated by
    tracemalloc, is kept apart."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.probe_cpu = 0.0
        self.peak_bytes: int | None = None  # the probed batch
        self.plan_peak_bytes: int | None = None  # the probed plan step (the largest page read)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._probing = False
        self._probe_taken = False
        self._plans_probed = 0

    def handler(self, event: Any, context: Any) -> Any:
        import app

        is_batch = _is_batch(event)
        probe = self._enter(is_batch)
        if probe:
            tracemalloc.start()
        started = time.thread_time()
        try:
            return app.run_worker(event, context)
        finally:
            spent = time.thread_time() - started
            if probe:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                if is_batch:
                    self.peak_bytes = peak
                else:
                    self.plan_peak_bytes = max(self.plan_peak_bytes or 0, peak)
            self._leave(probe, spent, is_batch)

    def _enter(self, is_batch: bool) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: not self._probing)
            # The first batch, and the first plan steps (the index pages and the first Zoho page).
            probe = (not self._probe_taken) if is_batch else self._plans_probed < PLAN_PROBES
            if probe:
                self._probing = True
                if is_batch:
                    self._probe_taken = True
                else:
                    self._plans_probed += 1
                self._cond.wait_for(lambda: self._in_flight == 0)
            self._in_flight += 1
            return probe

    def _leave(self, probe: bool, spent: float, is_batch: bool) -> None:
        with self._cond:
            self._in_flight -= 1
            if probe:
                self._probing = False
            if probe and is_batch:
                self.probe_cpu += spent
            else:  # a probed plan step's CPU (inflated by tracemalloc) is kept: an upper bound
                self.cpu += spent
            self._cond.notify_all()


def _is_batch(event: dict[str, Any]) -> bool:
    try:
        return json.loads(event["Records"][0]["body"]).get("kind") != "plan"
    except (KeyError, IndexError, ValueError):
        return False


def start_stack(label: str) -> Any:
    from sandbox.stack import LocalStack, StackConfig

    tag = f"bench-{label}-{uuid.uuid4().hex[:6]}"
    config = StackConfig(
        app_port=0,
        xero_port=0,
        zoho_port=0,
        moto_port=0,
        start_worker=False,
        # Limits off, and the remaining-call headers it still sends must agree with our roomy gate.
        xero_options={
            "seed": False,
            "rate_limits_enabled": False,
            "minute_limit": ROOMY_MINUTE,
            "day_limit": ROOMY_DAY,
            "app_minute_limit": ROOMY_MINUTE,
        },
        zoho_options={"seed": False},
        env={"TABLE_NAME": tag, "SYNC_QUEUE_NAME": f"{tag}.fifo", "RUNS_QUEUE_NAME": f"{tag}-runs"},
    )
    stack = LocalStack(config).start()
    _raise_our_budget()
    return stack


def _raise_our_budget() -> None:
    """Our shared Xero budget would pause the run for the minute limit like Xero does; the bench
    projects that time instead of sleeping it, so the in-process gate gets roomy limits."""
    from chalicelib import wiring
    from chalicelib.xero.budget import RateLimits

    wiring._container.cache_clear()
    gate = wiring.container().rate_gate
    gate.limits = RateLimits(minute=ROOMY_MINUTE, day=ROOMY_DAY, concurrent=XERO_CONCURRENT)


def bulk(size: int, seed: int = 7) -> dict[str, Any]:
    import app
    from sandbox.stack import QueueWorker

    stack = start_stack(str(size))
    meter = Meter()
    app.bench_run_worker = meter.handler  # QueueWorker looks handlers up on the app module
    workers = [
        QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="bench_run_worker", max_messages=1)
        for _ in range(RUN_WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        generated = stack.zoho.generate(size, seed=seed)
        invalid = sum(len(ids) for ids in generated["defects"].values())
        first = _measured_run(stack, meter, size)
        again = _measured_run(stack, meter, size)
        from_xero = _xero_edits_run(stack, meter, size)
        daily = _deletions_poll_per_day(stack)
        return {
            "accounts": size,
            "contacts": generated["contacts"],
            "invalid_accounts": invalid,
            "first_full_sync": first,
            "nothing_changed": again,
            "xero_to_zoho": from_xero,
            "zoho_deletions_poll": daily,
            "batch_worker_peak_mb": _mb(meter.peak_bytes),
            "plan_worker_peak_mb": _mb(meter.plan_peak_bytes),
            "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        for worker in workers:
            worker.stop()
        stack.stop()


def _deletions_poll_per_day(stack: Any) -> dict[str, Any]:
    """The Zoho credits the deletions poll spends a day besides the runs: one poll read as the
    stand-in meters it, times the reads a day at ZOHO_DELETIONS_POLL_MINUTES."""
    from chalicelib.deadline import Deadline
    from chalicelib.settings import get_settings
    from chalicelib.wiring import container

    minutes = get_settings().ZOHO_DELETIONS_POLL_MINUTES
    before = stack.zoho.credits_used()
    container().zoho_deletions.archive_deleted_since(Deadline(30))
    per_read = stack.zoho.credits_used() - before
    return {
        "poll_minutes": minutes,
        "credits_per_read": per_read,
        "credits_per_day": per_read * (24 * 60 // minutes),
        "credits_per_day_every_minute": per_read * 24 * 60,
    }


def _xero_edits_run(stack: Any, meter: Meter, size: int, edits: int = 1000) -> dict[str, Any]:
    """Up to 1,000 linked contacts edited in Xero (a new phone each), then a xero_to_zoho run."""
    stack.xero.clock.advance(5)
    linked = [c for c in stack.xero.contacts() if c.get("ContactNumber")][:edits]
    for n, contact in enumerate(linked):
        body = {k: v for k, v in contact.items() if k != "UpdatedDateUTC"}
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": f"+64 9 {n:07d}"}]
        stack.xero.put_contact(body)
    result = _measured_run(stack, meter, len(linked), {"window": {"days": 1}, "direction": "xero_to_zoho"})
    return {"changed_in_xero": len(linked), **result}


def _measured_run(stack: Any, meter: Meter, size: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    stack.xero.clear_calls()
    stack.zoho.clear_calls()
    cpu_before, probe_before = meter.cpu, meter.probe_cpu
    credits_before = stack.zoho.credits_used()  # the stand-in's meter, Zoho's credit table
    wall = time.monotonic()
    run = _run_to_end(stack.app_url, body or {"window": "all"})
    wall = time.monotonic() - wall
    cpu, probed = meter.cpu - cpu_before, meter.probe_cpu - probe_before
    # The probed batch's CPU (inflated by tracemalloc) is left out, and so are its Accounts.
    accounts = size - min(size, BATCH_SIZE) if probed else size
    if not accounts:
        cpu, accounts = cpu + probed, size
    xero_calls = stack.xero.calls()
    xero = len(xero_calls)
    writes = sum(1 for c in xero_calls if c["method"] in ("POST", "PUT") and "api.xro" in c["template"])
    zoho = sum(stack.zoho.call_counts().values())
    credits = stack.zoho.credits_used() - credits_before
    return {
        "state": run["state"],
        "counts": run["counts"],
        "xero_calls": xero,
        "xero_writes": writes,
        "xero_calls_by_endpoint": stack.xero.call_counts(),
        "zoho_calls": zoho,
        "zoho_calls_by_endpoint": stack.zoho.call_counts(),
        "xero_calls_per_1000": round(xero * 1000 / size, 1),
        "zoho_calls_per_1000": round(zoho * 1000 / size, 1),
        "zoho_credits": credits,
        "zoho_credits_per_1000": round(credits * 1000 / size, 1),
        "run_reported_calls": run["calls"],
        "run_reported_credits": run.get("credits", {}),
        "projected_xero_minutes": projected_minutes(xero),
        "our_cpu_s": round(cpu, 3),
        "our_cpu_ms_per_1000_accounts": round(cpu * 1000 * 1000 / accounts, 1),
        "our_cpu_ms_per_account": round(cpu * 1000 / accounts, 3),
        "bench_wall_s": round(wall, 1),
    }


def projected_minutes(calls: int) -> float:
    """Xero's floor for `calls`: the minute limit, or 5 in flight at the assumed latency."""
    return round(max(calls / XERO_MINUTE_LIMIT, calls / XERO_CONCURRENT * XERO_LATENCY_S / 60), 2)


def _run_to_end(url: str, body: dict[str, Any], limit_s: float = 3600) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        started = api.post("/sync/runs", json=body)
        started.raise_for_status()
        run_id = started.json()["run_id"]
        ends = time.monotonic() + limit_s
        while time.monotonic() < ends:
            run = api.get(f"/sync/runs/{run_id}").json()
            if run["state"] in ("completed", "completed_with_errors", "failed"):
                return dict(run)
            time.sleep(0.5)
    raise TimeoutError(f"run {run_id} did not finish within {limit_s} s")


def clicks(total: int = 200, seed: int = 11) -> dict[str, Any]:
    """`total` button syncs: a third create, a third update (after an edit), a third unchanged."""
    import app

    stack = start_stack("clicks")
    cpu: list[float] = []
    route = app.app.routes["/webhooks/zoho"]["POST"]
    original = route.view_function

    def measured(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            cpu.append(time.thread_time() - started)

    route.view_function = measured
    try:
        per_round = max(1, total // 3)
        generated = stack.zoho.generate(per_round, seed=seed)
        ids = [a["id"] for a in stack.zoho.records("Accounts")]
        token = os.environ["WEBHOOK_TOKEN"]
        samples: list[dict[str, Any]] = []
        with httpx.Client(base_url=stack.app_url, timeout=60) as http:
            for round_no in range(3):
                for index, account_id in enumerate(ids):
                    if len(samples) >= total:
                        break
                    if round_no == 1:  # a user edits the Account before clicking
                        stack.zoho.edit("Accounts", account_id, {"Phone": f"+61 2 4782 {1000 + index}"})
                    samples.append(_click(stack, http, account_id, token, cpu))
            while len(samples) < total:  # an odd total: more unchanged clicks
                samples.append(_click(stack, http, ids[len(samples) % len(ids)], token, cpu))
        return {"clicks": len(samples), "accounts": generated["accounts"], **_click_stats(samples)}
    finally:
        route.view_function = original
        stack.stop()


def _click(stack: Any, http: httpx.Client, account_id: str, token: str, cpu: list[float]) -> dict[str, Any]:
    xero, zoho = len(stack.xero.calls()), sum(stack.zoho.call_counts().values())
    response = http.post(
        "/webhooks/zoho",
        json={"account_id": account_id, "source": "button"},
        headers={"X-Webhook-Token": token},
    )
    body = response.json()
    return {
        "action": body.get("action") or body.get("status", str(response.status_code)),
        "cpu_ms": cpu[-1] * 1000 if cpu else 0.0,
        "xero": len(stack.xero.calls()) - xero,
        # the Zoho stand-in logs our calls; the click itself came straight to us, not through it
        "zoho": sum(stack.zoho.call_counts().values()) - zoho,
    }


def _click_stats(samples: list[dict[str, Any]]) -> dict[str, Any]:
    def summary(group: list[dict[str, Any]]) -> dict[str, Any]:
        times = sorted(s["cpu_ms"] for s in group)
        return {
            "clicks": len(group),
            "our_cpu_ms_p50": round(statistics.median(times), 2),
            "our_cpu_ms_p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
            "xero_calls_per_click": round(statistics.mean(s["xero"] for s in group), 2),
            "zoho_calls_per_click": round(statistics.mean(s["zoho"] for s in group), 2),
        }

    by_action: dict[str, list[dict[str, Any]]] = {}
    for sample in samples:
        by_action.setdefault(sample["action"], []).append(sample)
    return {"all": summary(samples), "by_action": {k: summary(v) for k, v in sorted(by_action.items())}}


def cold_start() -> dict[str, Any]:
    from bench.cold_start import DEFAULT_ZIP, measure

    if not DEFAULT_ZIP.exists():
        return {"skipped": f"no {DEFAULT_ZIP.relative_to(ROOT)}: run `make package` first"}
    result = measure(None, repeat=5)
    return {k: v for k, v in result.items() if not isinstance(v, dict | list)}


def _mb(value: int | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Projected Xero time = max(calls / {XERO_MINUTE_LIMIT} per min, calls / {XERO_CONCURRENT} concurrent x "
        f"{XERO_LATENCY_S:g} s assumed latency); the stand-in's rate limits were off.",
        "",
        f"{'bulk run':<28}{'Accounts':>9}{'Xero':>7}{'/1000':>7}{'writes':>8}{'Zoho':>7}{'/1000':>7}"
        f"{'credits':>8}{'Xero min':>10}{'CPU ms/Acct':>13}{'batch MB':>10}{'plan MB':>9}",
    ]
    for item in results["bulk"]:
        for label, key in (
            ("first full sync", "first_full_sync"),
            ("again, nothing changed", "nothing_changed"),
            ("Xero → Zoho, 1,000 edited", "xero_to_zoho"),
        ):
            if key not in item:
                continue
            r = item[key]
            lines.append(
                f"{label:<28}{item['accounts']:>9}{r['xero_calls']:>7}{r['xero_calls_per_1000']:>7}"
                f"{r['xero_writes']:>8}{r['zoho_calls']:>7}{r['zoho_calls_per_1000']:>7}"
                f"{r['zoho_credits']:>8}{r['projected_xero_minutes']:>10}{r['our_cpu_ms_per_account']:>13}"
                f"{item['batch_worker_peak_mb'] if key == 'first_full_sync' else '':>10}"
                f"{item.get('plan_worker_peak_mb') if key == 'first_full_sync' else '':>9}"
            )
    for item in results["bulk"]:
        poll = item.get("zoho_deletions_poll")
        if poll:
            lines.append(
                f"Zoho deletions poll every {poll['poll_minutes']} min: {poll['credits_per_day']} credits a day "
                f"(every minute: {poll['credits_per_day_every_minute']})"
            )
            break
    click = results.get("clicks")
    if click:
        lines += [
            "",
            f"{'button clicks':<16}{'clicks':>7}{'CPU p50 ms':>12}{'CPU p95 ms':>12}{'Xero/click':>12}"
            f"{'Zoho/click':>12}",
        ]
        for label, row in [("all", click["all"]), *click["by_action"].items()]:
            lines.append(
                f"{label:<16}{row['clicks']:>7}{row['our_cpu_ms_p50']:>12}{row['our_cpu_ms_p95']:>12}"
                f"{row['xero_calls_per_click']:>12}{row['zoho_calls_per_click']:>12}"
            )
    cold = results.get("cold_start", {})
    lines += ["", "cold start: " + ", ".join(f"{k} {v}" for k, v in cold.items())]
    if "both" in results:
        from bench.both import line

        lines += ["", line(results["both"])]
    lines += ["", "targets: " + ", ".join(f"{k} {v}" for k, v in TARGETS.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "1000,10000")
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--no-cold-start", action="store_true")
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)  # the service's per-record logs would bury the table
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    results = run_all(sizes, args.clicks, not args.no_cold_start, Path(args.out))
    print(table(results))
    print(f"\nwritten to {args.out}")
    return 0


def run_all(sizes: list[int], click_count: int, with_cold_start: bool, out: Path) -> dict[str, Any]:
    """Quick parts first, and results.json rewritten after each part, so a long size stopped
    halfway still leaves the others."""
    previous = _previous(out)  # what other parts (soak, clicks, other sizes) measured is kept
    results: dict[str, Any] = {
        **previous,
        "method": __doc__.split("\n\n", 2)[2].strip(),
        "xero_latency_assumed_s": XERO_LATENCY_S,
        "targets": TARGETS,
        "bulk": [b for b in previous.get("bulk", []) if b.get("accounts") not in sizes],
    }
    if with_cold_start or "cold_start" not in results:
        results["cold_start"] = cold_start() if with_cold_start else {"skipped": "--no-cold-start"}
    if click_count:
        print(f"clicks: {click_count}…", flush=True)
        results["clicks"] = clicks(click_count)
        _write(out, results)
    for size in sizes:
        print(f"bulk: {size} Accounts…", flush=True)
        results["bulk"].append(bulk(size))
        results["bulk"].sort(key=lambda b: int(b.get("accounts", 0)))
        _write(out, results)
        print(table(results), flush=True)
    from bench.both import scenario  # the `both` run over 1,000 linked pairs (bench/both.py)

    pairs = min(1000, max(sizes, default=1000))  # a quick bench (the smoke test's 20) stays quick
    print(f"both: {pairs} linked pairs…", flush=True)
    results["both"] = scenario(pairs)
    _write(out, results)
    return results


def _previous(out: Path) -> dict[str, Any]:
    try:
        found = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write(out: Path, results: dict[str, Any]) -> None:
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
