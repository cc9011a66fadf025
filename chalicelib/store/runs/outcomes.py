"""A run's outcomes: each batch accounted once, and the pages of problems or of every Account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.models.calls import UpstreamCalls
from chalicelib.models.run_plan import BatchStatus
from chalicelib.models.runs import COUNT_NAMES, AccountResult, RunAccount
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.runs import items as i
from chalicelib.store.runs.base import RunTable

_PROBLEM_KEYS = (s.PK, s.SK, s.GSI1_PK, s.GSI1_SK)
_ACCOUNT_KEYS = (s.PK, s.SK)
_ATTEMPTS = 3


class OutcomeRecords(RunTable):
    def account_batch(
        self,
        run_id: str,
        number: int,
        outcomes: Sequence[RunAccount],
        *,
        calls: UpstreamCalls,
        compact_unchanged: bool = False,
    ) -> bool:
        """Record a processed batch once: outcomes, counters, batch done. False if it was done already.

        An Account already recorded by another batch of this run (planned twice) keeps
        its first outcome and is not counted again. With `compact_unchanged` (the caller
        knows no other batch of the run lists these Accounts) the unchanged outcomes go onto
        the batch item instead of an item each.
        """
        kept_on_batch = [compact_unchanged and o.result is AccountResult.UNCHANGED for o in outcomes]
        on_batch = [o for o, kept in zip(outcomes, kept_on_batch, strict=True) if kept]
        remaining = [o for o, kept in zip(outcomes, kept_on_batch, strict=True) if not kept]
        for _ in range(_ATTEMPTS):
            items = self._accounting_items(run_id, number, remaining, on_batch, calls)
            try:
                self._client.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                if not i.cancelled(exc):
                    raise
                reasons = i.reason_codes(exc)
                if reasons[:1] == ["ConditionalCheckFailed"]:
                    return False  # the batch was accounted by an earlier delivery
                recorded = _recorded_before(remaining, reasons[2:])
                if not recorded:
                    raise
                remaining = [o for o in remaining if o.account_id not in recorded]
        raise RuntimeError(f"could not account batch {number} of run {run_id}")

    def _accounting_items(
        self,
        run_id: str,
        number: int,
        outcomes: Sequence[RunAccount],
        on_batch: Sequence[RunAccount],
        calls: UpstreamCalls,
    ) -> list[dict[str, Any]]:
        """[the batch's update, the run's update, one conditional Put per outcome in `outcomes`]
        (account_batch reads the cancellation reasons by these positions)."""
        now = self._clock()
        done = d.Expression().set("status", BatchStatus.DONE.value).set("done_at", now)
        if on_batch:
            done.set("unchanged", i.compress_index([i.outcome_row(o) for o in on_batch]))
        pending = f"{done.name('status')} = {done.value(BatchStatus.PENDING.value)}"
        batch_update = {
            "TableName": self._table,
            "Key": i.batch_key(run_id, number),
            **done.update_args(pending),
        }
        adds = _counters([*outcomes, *on_batch])
        adds.update({"batches_done": 1, **calls.counters()})
        expr = d.Expression().set("updated_at", now)
        run_update = {"TableName": self._table, "Key": i.run_key(run_id), **i.with_adds(expr, adds)}
        puts = [
            {"Put": {"TableName": self._table, "Item": i.account_item(o, now), **d.version_condition(0)}}
            for o in outcomes
        ]
        return [{"Update": batch_update}, {"Update": run_update}, *puts]

    def add_calls(self, run_id: str, calls: UpstreamCalls) -> None:
        """Calls spent by an attempt that did not finish its batch (rate-limited, retried)."""
        if not any(calls):
            return
        adds = i.with_adds(d.Expression(), calls.counters())
        self._client.update_item(TableName=self._table, Key=i.run_key(run_id), **adds)

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
            "ExpressionAttributeValues": {":g": {"S": i.problems_gsi(run_id)}},
            "Limit": limit + 1,
        }
        if cursor:
            fixed = {s.PK: i.run_pk(run_id), s.GSI1_PK: i.problems_gsi(run_id)}
            args["ExclusiveStartKey"] = decode_cursor(cursor, _PROBLEM_KEYS, fixed, {s.SK: i.ACCOUNT_PREFIX})
        items = self._client.query(**args).get("Items", [])
        page = items[:limit]
        next_cursor = encode_cursor(page[-1], _PROBLEM_KEYS) if len(items) > limit else None
        return [i.account_from_item(item) for item in page], next_cursor

    def _every_account(
        self, run_id: str, limit: int, cursor: str | None
    ) -> tuple[list[RunAccount], str | None]:
        # ACCT#... sorts before BATCH#..., and "BATCH$" after every "BATCH#...".
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": i.run_pk(run_id)},
                ":first": {"S": i.ACCOUNT_PREFIX},
                ":last": {"S": i.BATCH_PREFIX[:-1] + "$"},
            },
            "Limit": limit + 1,
        }
        if cursor:
            prefixes = {s.SK: (i.ACCOUNT_PREFIX, i.BATCH_PREFIX)}
            args["ExclusiveStartKey"] = decode_cursor(
                cursor, _ACCOUNT_KEYS, {s.PK: i.run_pk(run_id)}, prefixes
            )
        found: list[RunAccount] = []
        last: d.Item | None = None
        for item in self._query_all(args):
            if len(found) >= limit and last is not None:
                return found, encode_cursor(last, _ACCOUNT_KEYS)
            if item[s.SK]["S"].startswith(i.ACCOUNT_PREFIX):
                found.append(i.account_from_item(item))
            elif "unchanged" in item:
                found += i.unchanged_from_batch(run_id, item)
            last = item
        return found, None


def _counters(outcomes: Sequence[RunAccount]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_NAMES, 0)
    for outcome in outcomes:
        counts["selected"] += 1
        counts[outcome.result.value] += 1
    return {f"n_{name}": value for name, value in counts.items()}


def _recorded_before(outcomes: Sequence[RunAccount], reasons: Sequence[str]) -> set[str]:
    """Accounts whose outcome item another batch of the run wrote first (planned twice)."""
    return {
        o.account_id for o, code in zip(outcomes, reasons, strict=False) if code == "ConditionalCheckFailed"
    }
