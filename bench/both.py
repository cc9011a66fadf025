"""`make bench`'s `both` scenario: a `"direction": "both"` run over 1,000 linked pairs.

    python -m bench.both [--out bench/results.json]      (key "both"; bench/run.py runs it too)

The stack as `make bench` starts it (bench/run.py), with N synthetic Accounts linked by a
Zoho → Xero run; a first `both` since-last-run run settles the window that run's write-backs
opened. Then 100 Accounts are edited in Zoho (Account Number and Phone) and 100 contacts in
Xero (Account Number), 10 of them the same pairs (a collision on Account Number), and a
`both` since-last-run run is measured; then the same run again, which must write nothing.
Xero's webhook subscription is off and the Zoho edits fire no workflow rule, so no event
syncs a pair before the run does (they would, one way, under SYNC_MODE=one_way).
RUN_OVERLAP_SECONDS is 0 here: with the default 5 minutes, the measured run would list the
1,000 pairs the setup runs wrote a moment before (a schedule 4 hours apart never does).
Calls come from the stand-ins' call logs, as in bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import RUN_WORKERS, Meter, _measured_run, start_stack

ROOT = Path(__file__).resolve().parents[1]
PAIRS = 1000
TARGETS = {"both_1000_xero_calls": 25, "both_1000_zoho_calls": 70, "both_rerun_writes": 0}
SINCE_LAST_RUN = {"window": "since_last_run", "direction": "both"}


def scenario(pairs: int = PAIRS, seed: int = 5) -> dict[str, Any]:
    """Link `pairs` pairs, edit a tenth of them on each side, measure a `both` run and its rerun."""
    accounts = pairs + pairs // 16 + 4  # ~4% of generated Accounts cannot go to Xero
    changed = max(1, pairs // 10)
    colliding = max(1, changed // 10)
    import app
    from sandbox.stack import QueueWorker

    os.environ["RUN_OVERLAP_SECONDS"] = "0"
    stack = start_stack("both")
    meter = Meter()
    app.bench_run_worker = meter.handler
    workers = [
        QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="bench_run_worker", max_messages=1)
        for _ in range(RUN_WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        stack.xero.disable_webhooks()  # the run alone: no Xero event syncs a pair before it does
        stack.zoho.generate(accounts, seed=seed)
        linked = _link(stack, meter, accounts)[:pairs]
        _edit(stack, linked, changed, colliding)
        measured = _measured_run(stack, meter, len(linked), SINCE_LAST_RUN)
        rerun = _measured_run(stack, meter, len(linked), SINCE_LAST_RUN)
        return _result(stack, linked, (changed, colliding), measured, rerun)
    finally:
        for worker in workers:
            worker.stop()
        stack.stop()
        os.environ.pop("RUN_OVERLAP_SECONDS", None)


def _link(stack: Any, meter: Meter, accounts: int) -> list[tuple[str, str]]:
    _measured_run(stack, meter, accounts, {"window": "all"})
    _measured_run(stack, meter, accounts, SINCE_LAST_RUN)  # settles what the first run wrote
    time.sleep(1.1)  # Modified_Time is to the second: later edits fall after this run's start
    pairs = [
        (str(c["ContactNumber"]), str(c["ContactID"]))
        for c in stack.xero.contacts()
        if c.get("ContactNumber")
    ]
    return sorted(pairs)


def _edit(stack: Any, pairs: list[tuple[str, str]], changed: int, colliding: int) -> None:
    """Zoho edits pairs 0-99, Xero pairs 90-189 (at 1,000): 90-99 collide on Account Number."""
    for n, (account_id, _) in enumerate(pairs[:changed]):
        stack.zoho.edit(
            "Accounts",
            account_id,
            {"Account_Number": f"Z-{n}", "Phone": f"+64 9 300 {n:04d}"},
            automation=False,
        )
    start = changed - colliding
    stack.xero.clock.advance(30)
    for n, (_, contact_id) in enumerate(pairs[start : start + changed]):
        contact = {k: v for k, v in (stack.xero.contact(contact_id) or {}).items() if k != "UpdatedDateUTC"}
        stack.xero.put_contact({**contact, "AccountNumber": f"X-{n}"})


def _result(
    stack: Any,
    pairs: list[tuple[str, str]],
    edits: tuple[int, int],
    measured: dict[str, Any],
    rerun: dict[str, Any],
) -> dict[str, Any]:
    changed, colliding = edits
    rerun_zoho_writes = sum(
        1 for c in stack.zoho.calls() if c["method"] in ("POST", "PUT") and "/coql" not in c["path"]
    )
    collided = pairs[changed - colliding : changed]
    settled = sum(
        1
        for account_id, contact_id in collided
        if (stack.zoho.get("Accounts", account_id) or {}).get("Account_Number")
        == (stack.xero.contact(contact_id) or {}).get("AccountNumber")
    )
    return {
        "method": __doc__.split("\n\n", 2)[2].strip(),
        "linked_pairs": len(pairs),
        "changed_in_zoho": changed,
        "changed_in_xero": changed,
        "colliding": colliding,
        "collisions_settled_alike_both_sides": settled,
        "targets": TARGETS,
        "both_run": measured,
        "rerun": {**rerun, "zoho_writes": rerun_zoho_writes},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    result = scenario()
    out = Path(args.out)
    everything = json.loads(out.read_text()) if out.exists() else {}
    everything["both"] = result
    out.write_text(json.dumps(everything, indent=2) + "\n")
    print(line(result))
    print(f'\nwritten to {out} (key "both")')
    return 0


def line(result: dict[str, Any]) -> str:
    run, again = result["both_run"], result["rerun"]
    return (
        f"both run, {result['linked_pairs']} linked pairs, {result['changed_in_zoho']} changed each side "
        f"({result['colliding']} colliding): {run['xero_calls']} Xero calls ({run['xero_writes']} writes), "
        f"{run['zoho_calls']} Zoho calls, counts {run['counts']}; rerun: {again['xero_writes']} Xero writes, "
        f"{again['zoho_writes']} Zoho writes; targets {TARGETS}"
    )


if __name__ == "__main__":
    sys.exit(main())
