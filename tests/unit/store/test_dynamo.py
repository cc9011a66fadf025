from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.models.sync import SyncStatus
from chalicelib.store import _dynamo as d
from chalicelib.store.errors import StoreThrottledError


def test_to_item_drops_none_and_converts_floats_and_enums() -> None:
    item = d.to_item({"a": None, "b": 1.5, "c": SyncStatus.SYNCED, "n": 3})

    assert item == {"b": {"N": "1.5"}, "c": {"S": "Synced"}, "n": {"N": "3"}}
    assert d.from_item(item) == {"b": Decimal("1.5"), "c": "Synced", "n": Decimal(3)}


def test_expression_reuses_name_placeholders_and_removes_none() -> None:
    e = d.Expression().set("owner", "me").set("gone", None)
    e.set_raw("version", f"{e.name('version')} + {e.value(1)}")

    args = e.update_args(f"{e.name('owner')} = {e.value('me')}")

    assert args["UpdateExpression"] == "SET #n0 = :v0, #n2 = #n2 + :v1 REMOVE #n1"
    assert args["ConditionExpression"] == "#n0 = :v2"
    assert args["ExpressionAttributeNames"] == {"#n0": "owner", "#n1": "gone", "#n2": "version"}


def test_retry_unprocessed_backs_off_until_done() -> None:
    leftovers = [3, 1, 0]
    sleeps: list[float] = []

    d.retry_unprocessed("Op", lambda _: leftovers.pop(0), 5, lambda n: n, sleeps.append)

    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)


def test_retry_unprocessed_gives_up_with_a_retriable_error() -> None:
    sleeps: list[float] = []

    with pytest.raises(StoreThrottledError) as caught:
        d.retry_unprocessed("BatchGetItem", lambda _: 2, 2, lambda n: n, sleeps.append)

    assert len(sleeps) == d.MAX_BATCH_ATTEMPTS - 1
    assert "2 item(s)" in (caught.value.detail or "")
