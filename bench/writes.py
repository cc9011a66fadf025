"""DynamoDB writes of a scheduled run that finds nothing changed (what AWS bills per run).

    python -m bench.writes [--accounts 1000] [--out bench/results.json]

An in-process sandbox (as `make bench`) with N synthetic Accounts: a full `{"window": "all"}`
run, then a `since_last_run` run, the scheduled sync's window. The first run's write-backs
move every synced Account's Modified_Time, so the second run lists them all again and finds
them unchanged: the most common run there is.

How the figure is counted: a botocore `before-parameter-build` hook on the app's DynamoDB client counts
every write request and every item it writes (each item of a TransactWriteItems or
BatchWriteItem, each PutItem / UpdateItem / DeleteItem), by the kind of item (the partition
key's prefix: RUN, ACCOUNT, HISTORY, ...), from the POST that starts the run to its end,
run worker and API alike. DynamoDB bills each transactional item twice; `transaction_items`
says how many of the items were transactional.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class WriteMeter:
    """Counts write requests and written items on one boto3 DynamoDB client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.transaction_items = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before_call)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items.clear()
            self.transaction_items = 0

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name not in WRITE_OPERATIONS:
            return
        keys = list(_written_keys(model.name, params))
        with self._lock:
            self.requests[model.name] += 1
            self.items.update(_kind(key) for key in keys)
            if model.name == "TransactWriteItems":
                self.transaction_items += len(keys)

    def summary(self) -> dict[str, Any]:
        return {
            "write_requests": sum(self.requests.values()),
            "written_items": sum(self.items.values()),
            "transaction_items": self.transaction_items,
            "requests_by_operation": dict(sorted(self.requests.items())),
            "items_by_kind": dict(sorted(self.items.items())),
        }


def _written_keys(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    if operation == "TransactWriteItems":
        entries = [next(iter(entry.values())) for entry in params["TransactItems"]]
        return [entry.get("Item") or entry.get("Key") or {} for entry in entries]
    if operation == "BatchWriteItem":
        requests = [r for table in params["RequestItems"].values() for r in table]
        return [
            (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key")
            for r in requests
        ]
    return [params.get("Item") or params.get("Key") or {}]


def _kind(key: dict[str, Any] | None) -> str:
    """RUN#…/ACCT#… → RUN ACCT; ACCOUNT#… → ACCOUNT; the partition's prefix plus, for runs, the sort key's."""
    pk = str(((key or {}).get("pk") or {}).get("S", "?"))
    sk = str(((key or {}).get("sk") or {}).get("S", ""))
    kind = pk.split("#", 1)[0]
    if kind == "RUN":
        kind += " " + sk.split("#", 1)[0]
    return kind


def measure(accounts: int, seed: int = 7) -> dict[str, Any]:
    from bench.run import RUN_WORKERS, _run_to_end, start_stack
    from chalicelib.wiring import container
    from sandbox.stack import QueueWorker

    stack = start_stack(f"writes{accounts}")
    meter = WriteMeter()
    meter.attach(container().dynamodb)
    workers = [
        QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="run_worker", max_messages=1)
        for _ in range(RUN_WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        stack.zoho.generate(accounts, seed=seed)
        _run_to_end(stack.app_url, {"window": "all"})
        meter.reset()
        run = _run_to_end(stack.app_url, {"window": "since_last_run"})
        return {
            "accounts_generated": accounts,
            "window": "since_last_run",
            "counts": run["counts"],
            "batches": run["progress"]["batches_total"],
            **meter.summary(),
        }
    finally:
        for worker in workers:
            worker.stop()
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    result = {"method": __doc__.split("\n\n", 2)[2].strip(), **measure(args.accounts)}
    out = Path(args.out)
    everything = json.loads(out.read_text()) if out.exists() else {}
    everything["unchanged_run_writes"] = result
    out.write_text(json.dumps(everything, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "method"}, indent=2))
    print(f'\nwritten to {out} (key "unchanged_run_writes")')
    return 0


if __name__ == "__main__":
    sys.exit(main())
