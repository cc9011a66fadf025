"""A run's plan as stored: plan steps committed once, the batches they planned, the Xero index."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.models.run_plan import PLAN_CURSOR, PlanStep, RunBatch
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.runs import items as i
from chalicelib.store.runs.base import RunTable


class StepAlreadyCommittedError(Exception):
    """This plan step was committed before (a redelivered plan message)."""


class PlanRecords(RunTable):
    def commit_step(self, run_id: str, step: PlanStep) -> None:
        """Atomically: new batches, the next cursor, counters. StepAlreadyCommittedError on a replay."""
        now = self._clock()
        items: list[dict[str, Any]] = [{"Update": self._step_update(run_id, step, now)}]
        items += [
            {"Put": {"TableName": self._table, "Item": i.batch_item(run_id, b, now)}} for b in step.batches
        ]
        if step.index_page is not None:
            page, blob = step.index_page
            items.append({"Put": {"TableName": self._table, "Item": i.index_item(run_id, page, blob, now)}})
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if i.cancelled(exc) and i.reason_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise StepAlreadyCommittedError(run_id) from None
            raise

    def _step_update(self, run_id: str, step: PlanStep, now: float) -> dict[str, Any]:
        """The run's update for a step; its condition: the run is still at that step."""
        expr = d.Expression().set("plan_step", step.step + 1).set("updated_at", now)
        cursor = PLAN_CURSOR.dump_json(step.next_cursor).decode() if step.next_cursor is not None else None
        expr.set("plan_cursor", cursor)
        expr.set("last_step_first_batch", step.batches[0].number if step.batches else None)
        expr.set("last_step_batch_count", len(step.batches))
        if step.done:
            expr.set("planned", True)
        adds = {
            "batches_total": len(step.batches),
            "planned_accounts": step.planned_accounts,
            **step.calls.counters(),
        }
        condition = f"{expr.name('plan_step')} = {expr.value(step.step)}"
        return {"TableName": self._table, "Key": i.run_key(run_id), **i.with_adds(expr, adds, condition)}

    def get_batch(self, run_id: str, number: int) -> RunBatch | None:
        item = self._client.get_item(
            TableName=self._table,
            Key=i.batch_key(run_id, number),
            ConsistentRead=True,
            ProjectionExpression="#ids, #status, #phase",  # aliased: STATUS is a reserved word
            ExpressionAttributeNames={"#ids": "account_ids", "#status": "status", "#phase": "phase"},
        ).get("Item")
        return i.batch_from_item(number, item) if item else None

    def batches(self, run_id: str, numbers: Iterable[int]) -> list[RunBatch]:
        """The planned batches among `numbers` (one read each: a step plans a few)."""
        found = (self.get_batch(run_id, number) for number in numbers)
        return [batch for batch in found if batch is not None]

    def iter_index_pages(self, run_id: str) -> Iterator[bytes]:
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
            "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
            "ExpressionAttributeValues": {":pk": {"S": i.run_pk(run_id)}, ":p": {"S": i.INDEX_PREFIX}},
        }
        for item in self._query_all(args):
            yield bytes(item["data"]["B"])
