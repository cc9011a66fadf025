"""How a run's items are keyed and written, and how they read back as models."""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib.models.run_plan import PLAN_CURSOR, BatchStatus, PlannedBatch, RunBatch
from chalicelib.models.runs import COUNT_NAMES, AccountResult, Run, RunAccount, RunState, WindowKind
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

RUNS_PK = "RUNS"
ACTIVE_SK = "ACTIVE"
LAST_SK = "LAST"
RUN_SK = "RUN"
BATCH_PREFIX = "BATCH#"
ACCOUNT_PREFIX = "ACCT#"
INDEX_PREFIX = "XIDX#"
MAX_MESSAGE_CHARS = 2000
RUN_ITEM_TTL_DAYS = 400  # everything about a run expires with the history it explains


# --- keys ----------------------------------------------------------------------


def run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def run_key(run_id: str) -> d.Item:
    return s.key(run_pk(run_id), RUN_SK)


def batch_key(run_id: str, number: int) -> d.Item:
    return s.key(run_pk(run_id), f"{BATCH_PREFIX}{number:06d}")


def index_key(run_id: str, page: int) -> d.Item:
    return s.key(run_pk(run_id), f"{INDEX_PREFIX}{page:05d}")


def problems_gsi(run_id: str) -> str:
    return f"RUNPROB#{run_id}"


def ttl(now: float) -> int:
    return int(now + RUN_ITEM_TTL_DAYS * 86400)


# --- models to items -----------------------------------------------------------


def run_item(run: Run, now: float) -> d.Item:
    values = dataclasses.asdict(run)
    counts = values.pop("counts")
    values.pop("version", None)
    values.update({f"n_{name}": int(counts.get(name, 0)) for name in COUNT_NAMES})
    values.update(
        {
            s.PK: run_pk(run.run_id),
            s.SK: RUN_SK,
            s.GSI1_PK: RUNS_PK,
            s.GSI1_SK: f"{run.created_at}#{run.run_id}",
            "entity": "RUN",
            "plan_step": 0,
            "plan_cursor": None,
            "planned_accounts": 0,
            "updated_at": now,
            "ttl": ttl(now),
        }
    )
    return d.to_item(values)


def batch_item(run_id: str, batch: PlannedBatch, now: float) -> d.Item:
    return d.to_item(
        {
            **d.from_item(batch_key(run_id, batch.number)),
            "entity": "RUN_BATCH",
            "account_ids": list(batch.account_ids),
            "phase": batch.phase or None,
            "status": BatchStatus.PENDING.value,
            "ttl": ttl(now),
        }
    )


def index_item(run_id: str, page: int, blob: bytes, now: float) -> d.Item:
    return {
        **index_key(run_id, page),
        "entity": {"S": "RUN_XERO_INDEX"},
        "data": {"B": blob},
        "ttl": {"N": str(ttl(now))},
    }


def account_item(outcome: RunAccount, now: float) -> d.Item:
    values = dataclasses.asdict(outcome)
    values["message"] = (outcome.message or "")[:MAX_MESSAGE_CHARS]
    values.update(
        {
            s.PK: run_pk(outcome.run_id),
            s.SK: f"{ACCOUNT_PREFIX}{outcome.account_id}",
            "entity": "RUN_ACCOUNT",
            "ttl": ttl(now),
        }
    )
    if outcome.result.is_problem:
        values[s.GSI1_PK] = problems_gsi(outcome.run_id)
        values[s.GSI1_SK] = outcome.account_id
    return d.to_item(values)


def outcome_row(outcome: RunAccount) -> list[str | None]:
    """An unchanged outcome as it is kept on its batch item (run id and result are implied)."""
    message = (outcome.message or "")[:MAX_MESSAGE_CHARS]
    return [outcome.account_id, outcome.account_name, outcome.xero_contact_id, message, outcome.at]


# --- items to models -----------------------------------------------------------


def run_from_item(item: d.Item) -> Run:
    values = d.from_item(item)
    fields = {f.name for f in dataclasses.fields(Run)}
    kwargs = {k: v for k, v in values.items() if k in fields and k != "counts"}
    kwargs["counts"] = {name: d.as_int(values.get(f"n_{name}")) for name in COUNT_NAMES}
    for name in ("xero_calls", "zoho_calls", "zoho_credits", "batches_total", "batches_done", "version"):
        kwargs[name] = d.as_int(kwargs.get(name))
    if kwargs.get("days") is not None:
        kwargs["days"] = int(kwargs["days"])
    kwargs["state"] = RunState(kwargs["state"])
    kwargs["kind"] = WindowKind(kwargs["kind"])
    kwargs["planned"] = bool(kwargs.get("planned"))
    run = Run(**kwargs)
    run.updated_at = d.as_float(values.get("updated_at"))
    run.planned_accounts = d.as_int(values.get("planned_accounts"))
    run.plan_step = d.as_int(values.get("plan_step"))
    cursor = values.get("plan_cursor")
    try:
        run.plan_cursor = PLAN_CURSOR.validate_json(cursor) if cursor else None
    except ValidationError:  # reported by the planner, so the run ends instead of retrying
        run.plan_damaged = True
    run.last_step_first_batch = d.as_int(values.get("last_step_first_batch"), -1)
    run.last_step_batch_count = d.as_int(values.get("last_step_batch_count"))
    return run


def batch_from_item(number: int, item: d.Item) -> RunBatch:
    values = d.from_item(item)
    return RunBatch(
        number=number,
        account_ids=[str(a) for a in values.get("account_ids") or []],
        status=BatchStatus(str(values.get("status"))),
        phase=str(values.get("phase") or ""),
    )


def account_from_item(item: d.Item) -> RunAccount:
    values = d.from_item(item)
    fields = {f.name for f in dataclasses.fields(RunAccount)}
    kwargs = {k: v for k, v in values.items() if k in fields}
    kwargs["result"] = AccountResult(kwargs["result"])
    return RunAccount(**kwargs)


def unchanged_from_batch(run_id: str, item: d.Item) -> list[RunAccount]:
    rows = decompress_index(bytes(item["unchanged"]["B"]))
    return [
        RunAccount(
            run_id=run_id,
            account_id=str(account_id),
            result=AccountResult.UNCHANGED,
            message=str(message),
            account_name=name,
            xero_contact_id=contact_id,
            at=at,
        )
        for account_id, name, contact_id, message, at in rows
    ]


# --- blobs and transactions ----------------------------------------------------


def compress_index(rows: list[list[Any]]) -> bytes:
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)


def decompress_index(blob: bytes) -> list[list[Any]]:
    return list(json.loads(zlib.decompress(blob)))


def with_adds(expr: d.Expression, adds: dict[str, int], condition: str | None = None) -> dict[str, Any]:
    """The expression's SET/REMOVE plus `ADD counter :n` for each non-zero counter."""
    args = expr.update_args(condition)
    clauses = [f"{expr.name(name)} {expr.value(value)}" for name, value in adds.items() if value]
    args.update(expr.names_and_values())
    if clauses:
        args["UpdateExpression"] = (args.get("UpdateExpression", "") + " ADD " + ", ".join(clauses)).strip()
    if not args["UpdateExpression"]:
        args.pop("UpdateExpression")
    return args


def cancelled(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "TransactionCanceledException")


def reason_codes(exc: ClientError) -> list[str]:
    """Why each item of a cancelled transaction failed, in the transaction's order."""
    reasons = exc.response.get("CancellationReasons") or []
    if not reasons:  # some SDK paths only give the codes inside the message
        message = exc.response.get("Error", {}).get("Message", "")
        if "[" in message:
            inner = message[message.index("[") + 1 : message.rindex("]")]
            return [part.strip() for part in inner.split(",")]
    return [str(r.get("Code", "None")) for r in reasons]
