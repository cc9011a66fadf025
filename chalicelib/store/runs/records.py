"""The run item, the one-run-at-a-time slot and the watermark of the last finished run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.models.run_plan import Watermark
from chalicelib.models.runs import Run, RunState
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.runs import items as i
from chalicelib.store.runs.base import RunTable

_SLOT_KEY = s.key(i.RUNS_PK, i.ACTIVE_SK)
_LIST_KEYS = (s.PK, s.SK, s.GSI1_PK, s.GSI1_SK)


class RunConflictError(Exception):
    """Another run holds the one-at-a-time slot."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} is in progress")
        self.run_id = run_id


class RunRecords(RunTable):
    def create(self, run: Run, *, replacing: str | None = None) -> Run:
        """Store a new run and take the slot: a free one, or the one `replacing` holds.

        RunConflictError when the slot is not (or no longer) what the caller saw."""
        now = self._clock()
        slot = {
            s.PK: i.RUNS_PK,
            s.SK: i.ACTIVE_SK,
            "entity": "RUN_SLOT",
            "run_id": run.run_id,
            "taken_at": now,
        }
        taking = _held_by(replacing) if replacing else d.version_condition(0)
        new_run = {"Item": i.run_item(run, now), **d.version_condition(0)}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": d.to_item(slot), **taking}},
                    {"Put": {"TableName": self._table, **new_run}},
                ]
            )
        except ClientError as exc:
            if i.cancelled(exc):
                raise RunConflictError(self.active_run_id() or "unknown") from None
            raise
        return run

    def active_run_id(self) -> str | None:
        item = self._client.get_item(TableName=self._table, Key=_SLOT_KEY, ConsistentRead=True).get("Item")
        return str(d.from_item(item)["run_id"]) if item else None

    def release_slot(self, run_id: str) -> None:
        """Free the slot if `run_id` still holds it."""
        d.write_if(self._client.delete_item, TableName=self._table, Key=_SLOT_KEY, **_held_by(run_id))

    def get(self, run_id: str) -> Run | None:
        key = i.run_key(run_id)
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return i.run_from_item(item) if item else None

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]:
        """Runs newest first, one page at a time."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": s.GSI1,
            "KeyConditionExpression": "#g = :g",
            "ExpressionAttributeNames": {"#g": s.GSI1_PK},
            "ExpressionAttributeValues": {":g": {"S": i.RUNS_PK}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor:
            args["ExclusiveStartKey"] = decode_cursor(
                cursor, _LIST_KEYS, {s.GSI1_PK: i.RUNS_PK}, {s.PK: "RUN#"}
            )
        items = self._client.query(**args).get("Items", [])
        page = items[:limit]
        next_cursor = encode_cursor(page[-1], _LIST_KEYS) if len(items) > limit else None
        return [i.run_from_item(item) for item in page], next_cursor

    def last_finished(self) -> Watermark | None:
        key = s.key(i.RUNS_PK, i.LAST_SK)
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        if not item:
            return None
        values = d.from_item(item)
        return Watermark(str(values["run_id"]), values.get("until"), str(values.get("kind") or ""))

    def set_watermark(self, mark: Watermark) -> None:
        values = {"entity": "RUN_WATERMARK", "run_id": mark.run_id, "until": mark.until, "kind": mark.kind}
        item = d.to_item({s.PK: i.RUNS_PK, s.SK: i.LAST_SK, **values})
        self._client.put_item(TableName=self._table, Item=item)

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
            expr.set("message", message[: i.MAX_MESSAGE_CHARS])
        condition = f"attribute_exists({expr.name(s.PK)}) AND {_unfinished(expr)}"
        if only_from:
            allowed = [expr.value(x.value) for x in only_from]
            condition += f" AND {expr.name('state')} IN ({', '.join(allowed)})"
        return self._update_if(run_id, expr, condition)

    def finish(self, run_id: str, state: RunState, finished_at: str, message: str | None = None) -> bool:
        """Mark the run finished; False when it was finished already."""
        expr = d.Expression().set("state", state.value).set("finished_at", finished_at)
        expr.set("updated_at", self._clock()).set("resume_at", None)
        if message is not None:
            expr.set("message", message[: i.MAX_MESSAGE_CHARS])
        return self._update_if(run_id, expr, _unfinished(expr))

    def set_tenant(self, run_id: str, tenant_id: str) -> None:
        expr = d.Expression().set("tenant_id", tenant_id)
        self._client.update_item(TableName=self._table, Key=i.run_key(run_id), **expr.update_args())

    def _update_if(self, run_id: str, expr: d.Expression, condition: str) -> bool:
        args = expr.update_args(condition)
        return d.write_if(self._client.update_item, TableName=self._table, Key=i.run_key(run_id), **args)


def _held_by(run_id: str) -> dict[str, Any]:
    return {
        "ConditionExpression": "#run = :run",
        "ExpressionAttributeNames": {"#run": "run_id"},
        "ExpressionAttributeValues": {":run": {"S": run_id}},
    }


def _unfinished(expr: d.Expression) -> str:
    finished = [expr.value(x.value) for x in RunState if x.finished]
    return f"NOT {expr.name('state')} IN ({', '.join(finished)})"
