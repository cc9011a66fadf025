"""sandbox/moto_fit.py keeps moto's DynamoDB bounded and faithful (issue 11).

Each test pins one patch, so a moto upgrade that renames or reworks what is patched fails
here instead of bringing back a local stack that grows by gigabytes:
- a transaction copies the items it writes, never the table;
- a cancelled transaction leaves exactly what moto's own (copying) rollback leaves;
- moto keeps no reference to models it no longer needs (items, messages);
- items whose TTL has passed are deleted, as DynamoDB's TTL does;
- a query looks at its own partition (an index query: without sorting the whole table);
- the process's threads share two malloc arenas;
- an SQS send or receive does not count every message in the queue.
"""

from __future__ import annotations

import copy
import gc
import time
import weakref
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from chalicelib.store.schema import create_table
from sandbox.moto_fit import TTL_IGNORED_AFTER_SECONDS, TtlSweeper, expire_ttl_items, fit_moto

TABLE = "fit-test"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    fit_moto()


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, TABLE, poll_seconds=0.01)
        yield client


def _backend_table() -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE)


def _put_many(ddb: Any, count: int) -> None:
    for start in range(0, count, 25):
        ddb.batch_write_item(
            RequestItems={
                TABLE: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": f"A#{n}"}, "sk": {"S": "STATE"}, "n": {"N": str(n)}}
                        }
                    }
                    for n in range(start, min(count, start + 25))
                ]
            }
        )


def _scan(ddb: Any) -> list[dict[str, Any]]:
    items = ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


# --- transactions --------------------------------------------------------------------------


def test_a_transaction_copies_the_items_it_writes_not_the_table(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put_many(ddb, 500)
    copied: list[Any] = []

    def counting_deepcopy(self: Item, memo: dict[int, Any]) -> Item:
        copied.append(self)
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    monkeypatch.setattr(Item, "__deepcopy__", counting_deepcopy, raising=False)
    ddb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": {"S": "A#1"}, "sk": {"S": "STATE"}, "n": {"N": "-1"}},
                }
            },
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "A#2"}, "sk": {"S": "STATE"}},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "-2"}},
                }
            },
        ]
    )

    # Two items written: one journal copy each, plus moto's own copy of the updated item.
    # moto 5.2.5 unpatched copies all 500 items once per transaction entry (1,000 here).
    assert len(copied) <= 4, f"{len(copied)} item copies for a 2-item transaction on a 500-item table"
    assert {c.hash_key.value for c in copied} <= {"A#1", "A#2"}


_KEYS = st.sampled_from(["A#0", "A#1", "A#2", "A#3"])
_VALUES = st.integers(min_value=0, max_value=3)


@st.composite
def _operations(draw: Any) -> list[dict[str, Any]]:
    ops = []
    for key in draw(st.lists(_KEYS, min_size=1, max_size=4)):  # repeats make moto refuse the whole lot
        value = draw(_VALUES)
        condition = draw(
            st.sampled_from([None, "attribute_exists(pk)", "attribute_not_exists(pk)", "n = :v"])
        )
        kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
        op: dict[str, Any] = {"TableName": TABLE}
        if kind == "Put":
            op["Item"] = {"pk": {"S": key}, "sk": {"S": "STATE"}, "n": {"N": str(value)}}
        else:
            op["Key"] = {"pk": {"S": key}, "sk": {"S": "STATE"}}
        if kind == "Update":
            op["UpdateExpression"] = "SET n = :new"
            op["ExpressionAttributeValues"] = {":new": {"N": str(value + 10)}}
        if kind == "ConditionCheck" and condition is None:
            condition = "attribute_exists(pk)"
        if condition:
            op["ConditionExpression"] = condition
            if ":v" in condition:
                op.setdefault("ExpressionAttributeValues", {})[":v"] = {"N": str(draw(_VALUES))}
        ops.append({kind: op})
    return ops


def _outcome(ddb: Any, initial: dict[str, int], ops: list[dict[str, Any]]) -> tuple[Any, Any]:
    for key, value in initial.items():
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "sk": {"S": "STATE"}, "n": {"N": str(value)}})
    try:
        ddb.transact_write_items(TransactItems=ops)
        error: Any = None
    except ClientError as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        error = (exc.response["Error"]["Code"], reasons)
    return error, _scan(ddb)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.dictionaries(_KEYS, _VALUES), ops=_operations())
def test_transactions_end_exactly_as_with_motos_copying_rollback(
    initial: dict[str, int], ops: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, TABLE, poll_seconds=0.01)
        fitted = _outcome(client, initial, ops)
    with mock_aws(), monkeypatch.context() as patch:
        patch.setattr(
            DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items.__wrapped__
        )
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, TABLE, poll_seconds=0.01)
        original = _outcome(client, initial, ops)
    assert fitted == original


def test_a_cancelled_transaction_changes_nothing(ddb: Any) -> None:
    _put_many(ddb, 3)
    before = _scan(ddb)
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "A#0"}, "sk": {"S": "STATE"}, "n": {"N": "9"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "STATE"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "A#1"}, "sk": {"S": "STATE"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "A#2"}, "sk": {"S": "STATE"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _scan(ddb) == before


# --- no tracked instances -----------------------------------------------------------------


def test_moto_lets_go_of_deleted_items_and_messages(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "GONE"}, "sk": {"S": "STATE"}})
    item = _backend_table().get_item(DynamoType({"S": "GONE"}), DynamoType({"S": "STATE"}))
    gone = weakref.ref(item)
    del item
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "GONE"}, "sk": {"S": "STATE"}})

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="fit-test")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    from moto.sqs.models import Message, sqs_backends

    queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues["fit-test"]
    message = weakref.ref(queue._messages[0])
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])

    gc.collect()
    assert gone() is None, "moto still holds a deleted DynamoDB item"
    assert message() is None, "moto still holds a deleted SQS message"
    assert Item.instances_tracked == []
    assert Message.instances_tracked == []


# --- TTL ----------------------------------------------------------------------------------


def _put(ddb: Any, pk: str, ttl: dict[str, str] | None) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": "X"}}
    if ttl is not None:
        item["ttl"] = ttl
    ddb.put_item(TableName=TABLE, Item=item)


def test_items_past_their_ttl_are_deleted_like_dynamodb_does(ddb: Any) -> None:
    now = time.time()
    _put(ddb, "expired", {"N": str(int(now - 10))})
    _put(ddb, "expires-later", {"N": str(int(now + 3600))})
    _put(ddb, "no-ttl", None)
    _put(ddb, "ttl-not-a-number", {"S": str(int(now - 10))})
    _put(ddb, "too-old-to-count", {"N": str(int(now - TTL_IGNORED_AFTER_SECONDS - 86400))})

    assert expire_ttl_items(now) == 1
    assert {i["pk"]["S"] for i in _scan(ddb)} == {
        "expires-later",
        "no-ttl",
        "ttl-not-a-number",
        "too-old-to-count",
    }


def test_ttl_expiry_only_where_ttl_is_enabled(ddb: Any) -> None:
    ddb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": False}
    )
    _put(ddb, "expired", {"N": str(int(time.time() - 10))})
    assert expire_ttl_items() == 0
    assert [i["pk"]["S"] for i in _scan(ddb)] == ["expired"]


def test_the_sweeper_expires_items_in_the_background(ddb: Any) -> None:
    _put(ddb, "expired", {"N": str(int(time.time() - 10))})
    sweeper = TtlSweeper(interval=0.05).start()
    try:
        ends = time.monotonic() + 10
        while _scan(ddb) and time.monotonic() < ends:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert _scan(ddb) == []
    assert sweeper.deleted == 1


# --- queries ---------------------------------------------------------------------------------


def _put_partitions(ddb: Any, partitions: int, per_partition: int) -> None:
    """`partitions` × `per_partition` items; every second one is also in gsi1 under G#{partition}."""
    requests = []
    for p in range(partitions):
        for n in range(per_partition):
            item = {"pk": {"S": f"P#{p}"}, "sk": {"S": f"S#{n:03d}"}, "n": {"N": str(n)}}
            if n % 2 == 0:
                item.update({"gsi1pk": {"S": f"G#{p}"}, "gsi1sk": {"S": f"{n:03d}"}})
            requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={TABLE: requests[start : start + 25]})


def _comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted = [0]
    original = DynamoType.__lt__

    def counting(self: DynamoType, other: DynamoType) -> bool:
        counted[0] += 1
        return original(self, other)

    monkeypatch.setattr(DynamoType, "__lt__", counting)
    return counted


@pytest.mark.parametrize("index", [None, "gsi1"])
def test_a_query_does_not_sort_the_whole_table(
    ddb: Any, monkeypatch: pytest.MonkeyPatch, index: str | None
) -> None:
    _put_partitions(ddb, 100, 6)  # 600 items
    compared = _comparisons(monkeypatch)
    key = {"pk": "P#7"} if index is None else {"gsi1pk": "G#7"}
    name, value = next(iter(key.items()))
    args: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": f"{name} = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
    }
    if index:
        args["IndexName"] = index

    found = ddb.query(**args)["Items"]

    assert len(found) == (6 if index is None else 3)
    # moto 5.2.5 unpatched lists and sorts all 600 items for every query: ~770 comparisons.
    assert compared[0] < 100, f"{compared[0]} comparisons for a query that matches {len(found)} items"


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("index", [None, "gsi1"])
def test_queries_page_and_order_as_before(ddb: Any, index: str | None, forward: bool) -> None:
    """What the patch must not change: the matches, their order, and paging by Limit."""
    _put_partitions(ddb, 5, 9)
    name, value = ("pk", "P#3") if index is None else ("gsi1pk", "G#3")
    args: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": f"{name} = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
        "ScanIndexForward": forward,
        "Limit": 2,
    }
    if index:
        args["IndexName"] = index
    pages = []
    while True:
        response = ddb.query(**args)
        pages.append([i["n"]["N"] for i in response["Items"]])
        if "LastEvaluatedKey" not in response:
            break
        args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    expected = [str(n) for n in range(9) if index is None or n % 2 == 0]
    assert [n for page in pages for n in page] == (expected if forward else expected[::-1])
    assert all(len(page) <= 2 for page in pages)
    assert (
        ddb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :v",
            ExpressionAttributeValues={":v": {"S": "P#404"}},
        )["Items"]
        == []
    )
    assert len(_scan(ddb)) == 45  # a query for a missing partition created nothing


# --- malloc arenas ---------------------------------------------------------------------------

_ARENAS_PROBE = """
import ctypes, ctypes.util, os, sys, tempfile, threading
if sys.argv[1] == "fitted":
    from sandbox.moto_fit import fit_moto
    fit_moto()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(8)
def churn():
    together.wait()
    for _ in range(2000):
        del [bytearray(2048) for _ in range(50)][:]
threads = [threading.Thread(target=churn) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with tempfile.TemporaryFile("w+") as out:
    stream = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    out.seek(0)
    print(out.read().count("<heap nr="))
"""


def _arenas_after_eight_busy_threads(mode: str) -> int:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS_PROBE, mode],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_eight_busy_threads_share_two_malloc_arenas() -> None:
    """The stack's threads share two glibc arenas, so memory one frees another reuses (issue 11:
    without this the stack's RSS crept up ~5 MB per bulk run with no live object behind it)."""
    import ctypes.util

    if not hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_info"):
        pytest.skip("not glibc: its malloc arenas do not apply")

    assert _arenas_after_eight_busy_threads("plain") > 2  # what glibc does left alone
    assert _arenas_after_eight_busy_threads("fitted") <= 2


# --- sends that do not count the queue ------------------------------------------------------


def _visible_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often moto asks a message whether it is visible (what the queue counts walk)."""
    from moto.sqs.models import Message

    reads = [0]
    original = Message.visible

    def visible(self: Any) -> bool:
        reads[0] += 1
        return bool(original.fget(self))

    monkeypatch.setattr(Message, "visible", property(visible))
    return reads


@pytest.mark.parametrize("fifo", [False, True])
def test_a_send_does_not_walk_the_queue(monkeypatch: pytest.MonkeyPatch, fifo: bool) -> None:
    """Issue 11: each send counted every message in the queue, so the ~1,000 Xero echo events
    of a bulk run cost the stack quadratic CPU."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        name, extra = ("deep.fifo", {"FifoQueue": "true"}) if fifo else ("deep", {})
        url = sqs.create_queue(QueueName=name, Attributes=extra)["QueueUrl"]
        group = {"MessageGroupId": "g"} if fifo else {}

        def entries(start: int) -> list[dict[str, Any]]:
            return [
                {
                    "Id": str(n),
                    "MessageBody": f"m{n}",
                    **group,
                    **({"MessageDeduplicationId": f"d{n}"} if fifo else {}),
                }
                for n in range(start, start + 10)
            ]

        for start in range(0, 500, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=entries(start))
        reads = _visible_reads(monkeypatch)
        sqs.send_message_batch(QueueUrl=url, Entries=entries(1000))
        sqs.send_message(
            QueueUrl=url, MessageBody="one more", **group, **({"MessageDeduplicationId": "x"} if fifo else {})
        )

        # moto 5.2.5 unpatched: 2 walks of 500+ messages per message sent, ~11,000 reads.
        assert reads[0] < 100, f"{reads[0]} message reads to send 11 messages"


@pytest.mark.parametrize("fifo", [False, True])
def test_a_receive_walks_the_queue_once_not_per_message(monkeypatch: pytest.MonkeyPatch, fifo: bool) -> None:
    """Issue 11: each message handed out counted the whole queue twice over (to read its
    retention period), so the local workers' polls of a queue holding a bulk run's ~1,000 Xero
    echo events took 16 % of the stack's CPU."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        name, extra = ("deep.fifo", {"FifoQueue": "true"}) if fifo else ("deep", {})
        url = sqs.create_queue(QueueName=name, Attributes=extra)["QueueUrl"]
        for start in range(0, 500, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {
                        "Id": str(n),
                        "MessageBody": f"m{n}",
                        # one group per message, so a FIFO receive may hand out all ten
                        **({"MessageGroupId": f"g{n}", "MessageDeduplicationId": f"d{n}"} if fifo else {}),
                    }
                    for n in range(start, start + 10)
                ],
            )
        reads = _visible_reads(monkeypatch)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

        assert [m["Body"] for m in received] == [f"m{n}" for n in range(10)]
        # one walk of the 500 messages, plus the ten handed out; moto 5.2.5 unpatched: ~30,000
        assert reads[0] < 2_000, f"{reads[0]} message reads to receive 10 messages"


def test_queue_counts_and_fifo_rules_hold_as_before() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="counts")["QueueUrl"]
        for n in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "3"
        assert counts["ApproximateNumberOfMessagesNotVisible"] == "2"
        assert counts["ApproximateNumberOfMessagesDelayed"] == "1"

        fifo = sqs.create_queue(
            QueueName="rules.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
        sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")  # deduplicated
        assert len(sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages", [])) == 1
        plain_fifo = sqs.create_queue(QueueName="strict.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        with pytest.raises(ClientError, match="MessageDeduplicationId"):
            sqs.send_message(QueueUrl=plain_fifo, MessageBody="no id", MessageGroupId="g")


# --- DynamoDB AttributeValues written directly --------------------------------------------------

_names = st.text("abcdefghij_", min_size=1, max_size=6)
_numbers = st.integers(-(10**12), 10**12).map(str) | st.decimals(-1000, 1000, places=3).map(str)
_scalars = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=12)),
    st.builds(lambda v: {"N": v}, _numbers),
    st.builds(lambda v: {"B": v}, st.binary(min_size=1, max_size=12)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.text(min_size=1, max_size=6), min_size=1, max_size=3)),
    st.builds(lambda v: {"NS": sorted(v)}, st.sets(st.integers(-99, 99).map(str), min_size=1, max_size=3)),
    st.builds(
        lambda v: {"BS": sorted(v)}, st.sets(st.binary(min_size=1, max_size=6), min_size=1, max_size=3)
    ),
)
_attribute_values = st.recursive(
    _scalars,
    lambda inner: (
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3))
        | st.builds(lambda v: {"M": v}, st.dictionaries(_names, inner, max_size=3))
    ),
    max_leaves=8,
)


def _every_read(client: Any, item: dict[str, Any]) -> list[Any]:
    """What each kind of DynamoDB answer carrying items says, without its request id."""
    key = {"pk": item["pk"], "sk": item["sk"]}
    answers = [
        client.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD"),
        client.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
        client.batch_get_item(RequestItems={TABLE: {"Keys": [key]}}),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": item["pk"]},
        ),
        client.scan(TableName=TABLE),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}]),
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        client.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attributes=st.dictionaries(_names, _attribute_values, min_size=1, max_size=4))
def test_items_read_back_exactly_as_motos_serializer_writes_them(
    ddb: Any, attributes: dict[str, Any]
) -> None:
    from moto.core.serialize import BaseJSONSerializer

    item = {**attributes, "pk": {"S": "ACCOUNT#1"}, "sk": {"S": "STATE"}}
    fitted = _every_read(ddb, item)
    fast = BaseJSONSerializer._serialize_type_structure
    BaseJSONSerializer._serialize_type_structure = fast.__wrapped__  # type: ignore[attr-defined, method-assign]
    try:
        plain = _every_read(ddb, item)
    finally:
        BaseJSONSerializer._serialize_type_structure = fast  # type: ignore[method-assign]

    assert fitted == plain
    assert fitted[1]["Item"] == item


def test_an_attribute_value_is_not_looked_up_through_its_shape(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: moto's serializer spent ~20 ms writing out one Account's snapshot (GetItem) and
    ~2.6 s for a BatchGetItem of 100; a bulk batch reads them for every Account."""
    from moto.core.serialize import ResponseSerializer

    snapshot = {f"field{n}": {"S": f"value {n}"} for n in range(20)}
    item = {
        "pk": {"S": "ACCOUNT#1"},
        "sk": {"S": "SNAPSHOT"},
        "xero": {"M": snapshot},
        "zoho": {"M": snapshot},
    }
    ddb.put_item(TableName=TABLE, Item=item)
    picks = [0]
    original = ResponseSerializer.get_value

    def counting(self: Any, *args: Any) -> Any:
        picks[0] += 1
        return original(self, *args)

    monkeypatch.setattr(ResponseSerializer, "get_value", counting)
    got = ddb.get_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})

    assert got["Item"] == item
    # moto 5.2.5 unpatched: ten member lookups per AttributeValue, ~450 for this item
    assert picks[0] < 20, f"{picks[0]} shape lookups to write one item"
