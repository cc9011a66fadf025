"""Bulk runs: the run itself, its planned batches, per-Account outcomes and the Xero index.

Everything that must happen exactly once is a conditional write, so SQS's
at-least-once delivery can never count a batch twice or plan a page twice:

- a plan step commits (batches + cursor + counters) in one transaction that
  requires the run to still be at that step;
- a batch is accounted (outcomes + counters + "done") in one transaction that
  requires the batch to still be pending, and each Account's outcome item
  must not exist yet (an Account planned twice is counted once).

Most Accounts of most runs are unchanged. When the planner knows a batch's Accounts
are planned nowhere else in the run (`compact_unchanged`), their outcomes are kept on
the batch item itself (one zlib JSON attribute) instead of one item each: an
unchanged rerun of 1,000 Accounts writes 20 batch updates, not 1,000 items kept for
400 days. The batch's "pending" condition still makes it count once.

Items (see chalicelib/store/__init__.py for the table):
    RUN#{id} / RUN              the Run; gsi1 RUNS / {created_at}#{id} lists runs newest first
    RUN#{id} / BATCH#{n:06d}    account_ids, status pending|done, phase (which plan phase
                                listed them), unchanged (their unchanged outcomes, zlib JSON)
    RUN#{id} / ACCT#{account}   the RunAccount; problems also in gsi1 RUNPROB#{id} / {account}
    RUN#{id} / XIDX#{n:05d}     one page of the Xero contact index (zlib JSON)
    RUNS / ACTIVE               the run in progress (one at a time per organisation)
    RUNS / LAST                 the last finished real run (since-last-run starts from its `until`)
"""

from __future__ import annotations

import dataclasses
import json
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from chalicelib.models.runs import COUNT_NAMES, AccountResult, Run, RunAccount, RunState, WindowKind
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.cursors import decode_cursor, encode_cursor

RUNS_PK = "RUNS"
ACTIVE_SK = "ACTIVE"
LAST_SK = "LAST"
RUN_SK = "RUN"
BATCH_PREFIX = "BATCH#"
ACCOUNT_PREFIX = "ACCT#"
INDEX_PREFIX = "XIDX#"
MAX_MESSAGE_CHARS = 2000
RUN_ITEM_TTL_DAYS = 400  # everything about a run expires with the history it explains


class RunConflictError(Exception):
    """Another run holds the one-at-a-time slot."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} is in progress")
        self.run_id = run_id


class StepAlreadyCommittedError(Exception):
    """This plan step was committed before (a redelivered plan message)."""


@dataclass(frozen=True)
class PlannedBatch:
    number: int
    account_ids: list[str]
    phase: str = ""  # the plan phase that listed these Accounts ("accounts", "carry", ...)


class StoredBatch(NamedTuple):
    account_ids: list[str]
    status: str  # pending | done
    phase: str  # "" for batches planned before phases were recorded


@dataclass(frozen=True)
class PlanStep:
    """What one plan step adds to a run, committed atomically."""

    step: int  # the step being committed; the run must be at this step
    next_cursor: dict[str, Any] | None
    batches: list[PlannedBatch]
    planned_accounts: int = 0
    done: bool = False  # the last step: every batch is now planned
    index_page: tuple[int, bytes] | None = None  # (page number, compressed Xero index page)
    calls: tuple[int, ...] = (0, 0)  # (xero, zoho[, zoho credits]) spent by this step


class RunRepository:
    def __init__(self, client: Any, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    # --- the run ------------------------------------------------------------

    def create(self, run: Run, *, stale_after_seconds: float) -> Run:
        """Store a new run and take the one-at-a-time slot, or raise RunConflictError.

        A slot whose run finished, or made no progress for `stale_after_seconds`
        (a crashed run), is taken over.
        """
        now = self._clock()
        slot = {
            s.PK: RUNS_PK,
            s.SK: ACTIVE_SK,
            "entity": "RUN_SLOT",
            "run_id": run.run_id,
            "taken_at": now,
        }
        current = self.active_run_id()
        condition: dict[str, Any] = {
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": s.PK},
        }
        if current is not None:
            holder = self.get(current)
            if (
                holder is not None
                and not holder.state.finished
                and not self._stale(holder, now, stale_after_seconds)
            ):
                raise RunConflictError(current)
            condition = {
                "ConditionExpression": "#run = :run",
                "ExpressionAttributeNames": {"#run": "run_id"},
                "ExpressionAttributeValues": {":run": {"S": current}},
            }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": d.to_item(slot), **condition}},
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._run_item(run, now),
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": s.PK},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _cancelled(exc):
                raise RunConflictError(self.active_run_id() or "unknown") from None
            raise
        return run

    def active_run_id(self) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key=s.key(RUNS_PK, ACTIVE_SK), ConsistentRead=True
        ).get("Item")
        return str(d.from_item(item)["run_id"]) if item else None

    def get(self, run_id: str) -> Run | None:
        item = self._client.get_item(TableName=self._table, Key=_run_key(run_id), ConsistentRead=True).get(
            "Item"
        )
        return _run_from_item(item) if item else None

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]:
        """Runs newest first, one page at a time."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": s.GSI1,
            "KeyConditionExpression": "#g = :g",
            "ExpressionAttributeNames": {"#g": s.GSI1_PK},
            "ExpressionAttributeValues": {":g": {"S": RUNS_PK}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor:
            args["ExclusiveStartKey"] = decode_cursor(
                cursor, (s.PK, s.SK, s.GSI1_PK, s.GSI1_SK), {s.GSI1_PK: RUNS_PK}, {s.PK: "RUN#"}
            )
        items = self._client.query(**args).get("Items", [])
        page = items[:limit]
        next_cursor = (
            encode_cursor(page[-1], (s.PK, s.SK, s.GSI1_PK, s.GSI1_SK)) if len(items) > limit else None
        )
        return [_run_from_item(i) for i in page], next_cursor

    def last_finished(self) -> dict[str, Any] | None:
        """{run_id, until} of the last finished real (not dry) run, or None."""
        item = self._client.get_item(
            TableName=self._table, Key=s.key(RUNS_PK, LAST_SK), ConsistentRead=True
        ).get("Item")
        return d.from_item(item) if item else None

    def set_state(
        self,
        run_id: str,
        state: RunState,
        *,
        message: str | None = None,
        resume_at: str | None = None,
        only_from: Sequence[RunState] = (),
    ) -> bool:
        """Move an unfinished run to `state` (optionally only from the given states)."""
        expr = d.Expression().set("state", state.value).set("updated_at", self._clock())
        expr.set("resume_at", resume_at)
        if message is not None:
            expr.set("message", message[:MAX_MESSAGE_CHARS])
        finished = [expr.value(x.value) for x in RunState if x.finished]
        condition = (
            f"attribute_exists({expr.name(s.PK)}) AND NOT {expr.name('state')} IN ({', '.join(finished)})"
        )
        if only_from:
            allowed = [expr.value(x.value) for x in only_from]
            condition += f" AND {expr.name('state')} IN ({', '.join(allowed)})"
        return self._conditional_update(_run_key(run_id), expr, condition)

    def finish(self, run: Run, state: RunState, finished_at: str, message: str | None = None) -> bool:
        """Mark the run finished (once), free the slot and, for a real run, move the watermark."""
        expr = d.Expression().set("state", state.value).set("finished_at", finished_at)
        expr.set("updated_at", self._clock()).set("resume_at", None)
        if message is not None:
            expr.set("message", message[:MAX_MESSAGE_CHARS])
        finished = [expr.value(x.value) for x in RunState if x.finished]
        condition = f"NOT {expr.name('state')} IN ({', '.join(finished)})"
        if not self._conditional_update(_run_key(run.run_id), expr, condition):
            return False
        if not run.dry_run and state is not RunState.FAILED:
            self._client.put_item(
                TableName=self._table,
                Item=d.to_item(
                    {
                        s.PK: RUNS_PK,
                        s.SK: LAST_SK,
                        "entity": "RUN_WATERMARK",
                        "run_id": run.run_id,
                        "until": run.until,
                        "kind": run.kind.value,
                    }
                ),
            )
        self.release_slot(run.run_id)
        return True

    def release_slot(self, run_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=s.key(RUNS_PK, ACTIVE_SK),
                ConditionExpression="#run = :run",
                ExpressionAttributeNames={"#run": "run_id"},
                ExpressionAttributeValues={":run": {"S": run_id}},
            )
        except ClientError as exc:
            if not d.is_condition_failure(exc):
                raise

    def set_tenant(self, run_id: str, tenant_id: str) -> None:
        expr = d.Expression().set("tenant_id", tenant_id)
        self._client.update_item(TableName=self._table, Key=_run_key(run_id), **expr.update_args())

    # --- planning -----------------------------------------------------------

    def commit_step(self, run_id: str, step: PlanStep) -> None:
        """Atomically: new batches, the next cursor, counters. StepAlreadyCommittedError on a replay."""
        now = self._clock()
        expr = d.Expression()
        expr.set("plan_step", step.step + 1).set("updated_at", now)
        expr.set("plan_cursor", json.dumps(step.next_cursor) if step.next_cursor is not None else None)
        expr.set("last_step_first_batch", step.batches[0].number if step.batches else None)
        expr.set("last_step_batch_count", len(step.batches))
        adds = {
            "batches_total": len(step.batches),
            "planned_accounts": step.planned_accounts,
            **_call_adds(step.calls),
        }
        if step.done:
            expr.set("planned", True)
        condition = f"{expr.name('plan_step')} = {expr.value(step.step)}"
        update = {
            "Update": {
                "TableName": self._table,
                "Key": _run_key(run_id),
                **_with_adds(expr, adds, condition),
            }
        }
        items: list[dict[str, Any]] = [update]
        for batch in step.batches:
            items.append({"Put": {"TableName": self._table, "Item": self._batch_item(run_id, batch)}})
        if step.index_page is not None:
            page, blob = step.index_page
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **s.key(_run_pk(run_id), f"{INDEX_PREFIX}{page:05d}"),
                            "entity": {"S": "RUN_XERO_INDEX"},
                            "data": {"B": blob},
                            "ttl": {"N": str(self._ttl())},
                        },
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _cancelled(exc) and _reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise StepAlreadyCommittedError(run_id) from None
            raise

    def get_batch(self, run_id: str, number: int) -> StoredBatch | None:
        """(account_ids, status, phase) of a planned batch, or None."""
        item = self._client.get_item(
            TableName=self._table,
            Key=_batch_key(run_id, number),
            ConsistentRead=True,
            ProjectionExpression="#ids, #status, #phase",  # aliased: STATUS is a reserved word
            ExpressionAttributeNames={"#ids": "account_ids", "#status": "status", "#phase": "phase"},
        ).get("Item")
        if not item:
            return None
        values = d.from_item(item)
        return StoredBatch(
            [str(a) for a in values.get("account_ids") or []],
            str(values.get("status")),
            str(values.get("phase") or ""),
        )

    def pending_batches(self, run_id: str, first: int, count: int) -> list[int]:
        """Which of the batches first..first+count-1 are still pending (to re-send after a crash)."""
        pending = []
        for number in range(first, first + count):
            batch = self.get_batch(run_id, number)
            if batch is not None and batch[1] == "pending":
                pending.append(number)
        return pending

    def iter_index_pages(self, run_id: str) -> Iterator[bytes]:
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
            "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
            "ExpressionAttributeValues": {":pk": {"S": _run_pk(run_id)}, ":p": {"S": INDEX_PREFIX}},
        }
        while True:
            response = self._client.query(**args)
            for item in response.get("Items", []):
                yield bytes(item["data"]["B"])
            if "LastEvaluatedKey" not in response:
                return
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # --- accounting ---------------------------------------------------------

    def account_batch(
        self,
        run_id: str,
        number: int,
        outcomes: Sequence[RunAccount],
        *,
        calls: tuple[int, ...],
        compact_unchanged: bool = False,
    ) -> bool:
        """Record a processed batch once: outcomes, counters, batch done. False if it was done already.

        An Account already recorded by another batch of this run (planned twice) keeps
        its first outcome and is not counted again. With `compact_unchanged` (the caller
        knows no other batch of the run lists these Accounts) the unchanged outcomes go onto
        the batch item instead of an item each.
        """
        on_batch = [o for o in outcomes if compact_unchanged and o.result is AccountResult.UNCHANGED]
        remaining = [o for o in outcomes if not (compact_unchanged and o.result is AccountResult.UNCHANGED)]
        for _ in range(3):
            try:
                self._client.transact_write_items(
                    TransactItems=self._accounting_items(run_id, number, remaining, on_batch, calls)
                )
                return True
            except ClientError as exc:
                if not _cancelled(exc):
                    raise
                reasons = _reason_codes(exc)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False  # the batch was accounted by an earlier delivery
                duplicate = {
                    outcome.account_id
                    for outcome, code in zip(remaining, reasons[2:], strict=False)
                    if code == "ConditionalCheckFailed"
                }
                if not duplicate:
                    raise
                remaining = [o for o in remaining if o.account_id not in duplicate]
        raise RuntimeError(f"could not account batch {number} of run {run_id}")

    def _accounting_items(
        self,
        run_id: str,
        number: int,
        outcomes: Sequence[RunAccount],
        on_batch: Sequence[RunAccount],
        calls: tuple[int, ...],
    ) -> list[dict[str, Any]]:
        """[the batch's update, the run's update, one conditional Put per outcome in `outcomes`]
        (account_batch reads the cancellation reasons by these positions)."""
        now = self._clock()
        done = d.Expression().set("status", "done").set("done_at", now)
        if on_batch:
            done.set("unchanged", compress_index([_outcome_row(o) for o in on_batch]))
        batch_update = {
            "Update": {
                "TableName": self._table,
                "Key": _batch_key(run_id, number),
                **done.update_args(f"{done.name('status')} = {done.value('pending')}"),
            }
        }
        counts = dict.fromkeys(COUNT_NAMES, 0)
        for outcome in [*outcomes, *on_batch]:
            counts["selected"] += 1
            counts[outcome.result.value] += 1
        expr = d.Expression().set("updated_at", now)
        adds = {f"n_{name}": value for name, value in counts.items()}
        adds.update({"batches_done": 1, **_call_adds(calls)})
        run_update = {"Update": {"TableName": self._table, "Key": _run_key(run_id), **_with_adds(expr, adds)}}
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._account_item(outcome),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": s.PK},
                }
            }
            for outcome in outcomes
        ]
        return [batch_update, run_update, *puts]

    def add_calls(self, run_id: str, calls: tuple[int, ...]) -> None:
        """Calls spent by an attempt that did not finish its batch (rate-limited, retried)."""
        if not any(calls):
            return
        expr = d.Expression()
        self._client.update_item(
            TableName=self._table,
            Key=_run_key(run_id),
            **_with_adds(expr, _call_adds(calls)),
        )

    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[RunAccount], str | None]:
        """A page of the run's problems, or (problems_only=False) of every Account it went through.

        Every Account: first the outcome items, then the unchanged Accounts kept on batch
        items; a page holds at least `limit` Accounts when there are more, and a batch's
        unchanged Accounts are never split over two pages (so a page may hold up to a batch
        more than `limit`)."""
        if not problems_only:
            return self._every_account(run_id, limit, cursor)
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": s.GSI1,
            "KeyConditionExpression": "#g = :g",
            "ExpressionAttributeNames": {"#g": s.GSI1_PK},
            "ExpressionAttributeValues": {":g": {"S": _problems_gsi(run_id)}},
        }
        key_names = (s.PK, s.SK, s.GSI1_PK, s.GSI1_SK)
        fixed = {s.PK: _run_pk(run_id), s.GSI1_PK: _problems_gsi(run_id)}
        args["Limit"] = limit + 1
        if cursor:
            args["ExclusiveStartKey"] = decode_cursor(cursor, key_names, fixed, {s.SK: ACCOUNT_PREFIX})
        items = self._client.query(**args).get("Items", [])
        page = items[:limit]
        next_cursor = encode_cursor(page[-1], key_names) if len(items) > limit else None
        return [_account_from_item(i) for i in page], next_cursor

    def _every_account(
        self, run_id: str, limit: int, cursor: str | None
    ) -> tuple[list[RunAccount], str | None]:
        # ACCT#... sorts before BATCH#..., and "BATCH$" after every "BATCH#...".
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": _run_pk(run_id)},
                ":first": {"S": ACCOUNT_PREFIX},
                ":last": {"S": BATCH_PREFIX[:-1] + "$"},
            },
            "Limit": limit + 1,
        }
        key_names = (s.PK, s.SK)
        if cursor:
            args["ExclusiveStartKey"] = decode_cursor(
                cursor, key_names, {s.PK: _run_pk(run_id)}, {s.SK: (ACCOUNT_PREFIX, BATCH_PREFIX)}
            )
        found: list[RunAccount] = []
        last: d.Item | None = None
        for item in self._query_all(args):
            if len(found) >= limit:
                assert last is not None
                return found, encode_cursor(last, key_names)
            if item[s.SK]["S"].startswith(ACCOUNT_PREFIX):
                found.append(_account_from_item(item))
            elif "unchanged" in item:
                found += _unchanged_from_batch(run_id, item)
            last = item
        return found, None

    def _query_all(self, args: dict[str, Any]) -> Iterator[d.Item]:
        while True:
            response = self._client.query(**args)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            args = {**args, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    def iter_problem_accounts(self, run_id: str, results: Sequence[AccountResult]) -> Iterator[str]:
        """Account ids of a run's problems with the given results (for "Retry failed")."""
        cursor = None
        while True:
            page, cursor = self.accounts(run_id, problems_only=True, limit=500, cursor=cursor)
            for outcome in page:
                if outcome.result in results:
                    yield outcome.account_id
            if cursor is None:
                return

    # --- items --------------------------------------------------------------

    def _ttl(self) -> int:
        return int(self._clock() + RUN_ITEM_TTL_DAYS * 86400)

    def _run_item(self, run: Run, now: float) -> d.Item:
        values = dataclasses.asdict(run)
        counts = values.pop("counts")
        values.pop("version", None)
        values.update({f"n_{name}": int(counts.get(name, 0)) for name in COUNT_NAMES})
        values.update(
            {
                s.PK: _run_pk(run.run_id),
                s.SK: RUN_SK,
                s.GSI1_PK: RUNS_PK,
                s.GSI1_SK: f"{run.created_at}#{run.run_id}",
                "entity": "RUN",
                "plan_step": 0,
                "plan_cursor": None,
                "planned_accounts": 0,
                "updated_at": now,
                "ttl": self._ttl(),
            }
        )
        return d.to_item(values)

    def _batch_item(self, run_id: str, batch: PlannedBatch) -> d.Item:
        return d.to_item(
            {
                **d.from_item(_batch_key(run_id, batch.number)),
                "entity": "RUN_BATCH",
                "account_ids": list(batch.account_ids),
                "phase": batch.phase or None,
                "status": "pending",
                "ttl": self._ttl(),
            }
        )

    def _account_item(self, outcome: RunAccount) -> d.Item:
        values = dataclasses.asdict(outcome)
        values["message"] = (outcome.message or "")[:MAX_MESSAGE_CHARS]
        values.update(
            {
                s.PK: _run_pk(outcome.run_id),
                s.SK: f"{ACCOUNT_PREFIX}{outcome.account_id}",
                "entity": "RUN_ACCOUNT",
                "ttl": self._ttl(),
            }
        )
        if outcome.result.is_problem:
            values[s.GSI1_PK] = _problems_gsi(outcome.run_id)
            values[s.GSI1_SK] = outcome.account_id
        return d.to_item(values)

    def _conditional_update(self, key: d.Item, expr: d.Expression, condition: str) -> bool:
        try:
            self._client.update_item(TableName=self._table, Key=key, **expr.update_args(condition))
        except ClientError as exc:
            if d.is_condition_failure(exc):
                return False
            raise
        return True

    @staticmethod
    def _stale(run: Run, now: float, stale_after: float) -> bool:
        return run.updated_at is not None and now - run.updated_at > stale_after


# --- helpers -----------------------------------------------------------------


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _run_key(run_id: str) -> d.Item:
    return s.key(_run_pk(run_id), RUN_SK)


def _batch_key(run_id: str, number: int) -> d.Item:
    return s.key(_run_pk(run_id), f"{BATCH_PREFIX}{number:06d}")


def _problems_gsi(run_id: str) -> str:
    return f"RUNPROB#{run_id}"


def _with_adds(expr: d.Expression, adds: dict[str, int], condition: str | None = None) -> dict[str, Any]:
    """The expression's SET/REMOVE plus `ADD counter :n` for each non-zero counter."""
    args = expr.update_args(condition)
    clauses = [f"{expr.name(name)} {expr.value(value)}" for name, value in adds.items() if value]
    args.update(expr.names_and_values())
    if clauses:
        args["UpdateExpression"] = (args.get("UpdateExpression", "") + " ADD " + ", ".join(clauses)).strip()
    if not args["UpdateExpression"]:
        args.pop("UpdateExpression")
    return args


def _cancelled(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "TransactionCanceledException"


def _reason_codes(exc: ClientError) -> list[str]:
    reasons = exc.response.get("CancellationReasons") or []
    if not reasons:  # some SDK paths only give the codes inside the message
        message = exc.response.get("Error", {}).get("Message", "")
        if "[" in message:
            inner = message[message.index("[") + 1 : message.rindex("]")]
            return [part.strip() for part in inner.split(",")]
    return [str(r.get("Code", "None")) for r in reasons]


def _call_adds(calls: tuple[int, ...]) -> dict[str, int]:
    """The run's call counters to add: (Xero calls, Zoho calls[, Zoho credits])."""
    return dict(zip(("xero_calls", "zoho_calls", "zoho_credits"), calls, strict=False))


def _run_from_item(item: d.Item) -> Run:
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
    run.plan_cursor = json.loads(values["plan_cursor"]) if values.get("plan_cursor") else None
    run.last_step_first_batch = d.as_int(values.get("last_step_first_batch"), -1)
    run.last_step_batch_count = d.as_int(values.get("last_step_batch_count"))
    return run


def _outcome_row(outcome: RunAccount) -> list[str | None]:
    """An unchanged outcome as it is kept on its batch item (run id and result are implied)."""
    message = (outcome.message or "")[:MAX_MESSAGE_CHARS]
    return [outcome.account_id, outcome.account_name, outcome.xero_contact_id, message, outcome.at]


def _unchanged_from_batch(run_id: str, item: d.Item) -> list[RunAccount]:
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


def _account_from_item(item: d.Item) -> RunAccount:
    values = d.from_item(item)
    fields = {f.name for f in dataclasses.fields(RunAccount)}
    kwargs = {k: v for k, v in values.items() if k in fields}
    kwargs["result"] = AccountResult(kwargs["result"])
    return RunAccount(**kwargs)


def compress_index(rows: list[list[Any]]) -> bytes:
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)


def decompress_index(blob: bytes) -> list[list[Any]]:
    return list(json.loads(zlib.decompress(blob)))
