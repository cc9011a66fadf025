"""moto, made fit to run for an afternoon: the one place every local stack patches it.

`make run`, the integration and end-to-end stacks, the in-process test fixtures and both
benchmarks call `fit_moto()`. Left alone, moto 5's DynamoDB grows without bound and slows
down with every write (issue 11: 24 GB after ~2,500 Accounts of bulk runs):

1. `transact_write_items` deep-copies every table a transaction touches, once per item, as
   its rollback backup: a 50-Account batch copied the whole table 50 times. Here the
   transaction keeps an undo journal of only the items it touches (a copy of each one's
   previous version) and restores those when it is cancelled; the table itself is never
   copied. Same all-or-nothing result for our code, at the cost of the items written.
2. Every moto model object (each DynamoDB item and item copy, each SQS message) is appended
   to its class's `instances_tracked` list, which only moto's dashboard reads, and is never
   freed. Here models are no longer tracked, so a deleted item or message is freed.
3. DynamoDB deletes items whose TTL attribute (a Number of epoch seconds) has passed; moto
   never does. `expire_ttl_items()` does what DynamoDB's TTL sweeper does, and `TtlSweeper`
   runs it in the background of a local stack, so locks, sessions, run records and history
   with a TTL leave the table as they would in AWS.
4. `make_moto_atomic()` serialises moto's server: DynamoDB applies each conditional write
   atomically, but moto checks the condition and then writes in plain Python.
5. Every Query lists and sorts every item of the table (`Table.all_items()`) before it
   picks out the key it asked for, so each one slows down as the table grows. Here a
   Query on the table looks only at its own partition, and a Query on an index skips the
   whole-table sort (moto sorts what matched afterwards anyway). Scans are left alone.
6. The process keeps at most two glibc malloc arenas. A local stack is one process with
   dozens of threads (moto's server, both stand-ins, the app, its queue workers); glibc
   gives threads up to 8 arenas per core, and memory freed in one is not reused by
   another, so the stack's RSS crept up ~5 MB per 1,000-Account run with no live object
   to show for it (`MALLOC_ARENA_MAX=2` measured: ~1.5 MB, the data it keeps). Set here,
   before any server thread starts, so `make run` needs no environment variable. Not glibc
   (macOS): nothing to do.

7. SQS SendMessage reads the queue's ContentBasedDeduplication through `Queue.attributes`,
   which also counts every message in the queue three times over (visible, in flight,
   delayed; each message asks the clock), two or three times per message sent. So each send
   slowed with the queue's depth: the ~1,000 events Xero sends for a bulk run's own writes,
   queued while the run goes on, spent more of the stack's CPU in these counts than on
   anything else moto did (profiled with py-spy during `make soak`). ReceiveMessage does the
   same once per message it hands out (to read MessageRetentionPeriod), so every poll of a
   queue holding those ~1,000 events walked it ~60 times: 16 % of the stack's CPU during a
   soak's first runs (py-spy --gil, 3 Dec 2026). Here a send and a receive skip the counts,
   which nothing on their paths reads; GetQueueAttributes still counts as before.

8. DynamoDB answers are written out by moto's generic, model-driven serializer, which looks
   up every field of every AttributeValue through its shape (aliases, pickers, paths): a
   GetItem of one Account's snapshot spent ~20 ms there and a BatchGetItem of 100 of them
   ~2.6 s, so each bulk batch's and each Xero event's reads of snapshots and Account states
   cost more than anything else moto did (py-spy --gil during `make soak`, 3 Dec 2026). Here
   an AttributeValue is written directly, exactly as the serializer writes it (the same
   strings, base64 for binary), and anything else still goes through moto's serializer.

tests/sandbox/test_moto_fit.py pins each of these, so a moto upgrade that changes what is
patched here fails the suite instead of silently bringing the growth back.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

#: Held while moto's server answers a request, and by the TTL sweeper while it deletes.
moto_lock = threading.RLock()

#: DynamoDB leaves items whose TTL lies more than five years in the past alone.
TTL_IGNORED_AFTER_SECONDS = 5 * 365 * 86400

_in_transaction = threading.local()
_fitted = False


def fit_moto() -> None:
    """Apply every patch below (idempotent; safe to call from any number of stacks)."""
    global _fitted
    if _fitted:
        return
    _stop_tracking_instances()
    _transactions_copy_only_what_they_touch()
    _queries_read_only_their_partition()
    _sends_do_not_count_the_queue()
    _attribute_values_written_directly()
    limit_malloc_arenas()
    _fitted = True


# --- 1. transactions without whole-table copies -------------------------------------------


class _CopyExceptTablesInTransactions:
    """Stands in for the `copy` module inside `moto.dynamodb.models`.

    While a transaction runs on this thread, `copy.deepcopy(table)` (moto's rollback backup)
    hands back the table itself; every other copy is a real one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_in_transaction, "active", False) and isinstance(obj, Table):
            return obj
        return copy.deepcopy(obj, memo)


class _UndoJournal:
    """The previous version (a copy, or None) of each item a transaction is about to write."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._saved: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            located = _locate(backend, entry)
            if located is not None:
                table, hash_key, range_key = located
                current = table.get_item(hash_key, range_key)
                self._saved.append((table, hash_key, range_key, copy.deepcopy(current)))

    def undo(self) -> None:
        for table, hash_key, range_key, previous in reversed(self._saved):
            if previous is not None:
                if range_key is None:
                    table.items[hash_key] = previous
                else:
                    table.items[hash_key][range_key] = previous
            elif range_key is None:
                table.items.pop(hash_key, None)
            elif hash_key in table.items:
                table.items[hash_key].pop(range_key, None)
                if not table.items[hash_key]:
                    del table.items[hash_key]


def _locate(backend: Any, entry: dict[str, Any]) -> tuple[Any, Any, Any] | None:
    """(table, hash key, range key) of one transaction entry; None when moto will reject it anyway."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        op_type, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        key = op["Item"] if op_type == "Put" else op["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        table.get_item(hash_key, range_key)  # validates the key's shape
    except Exception:
        return None
    return table, hash_key, range_key


def _transactions_copy_only_what_they_touch() -> None:
    from moto.dynamodb import models

    models.copy = _CopyExceptTablesInTransactions()  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal = _UndoJournal(self, transact_items)
        _in_transaction.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            journal.undo()  # moto's own "rollback" put the same (uncopied) table back
            raise
        finally:
            _in_transaction.active = False

    transact_write_items.__wrapped__ = original  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# --- 2. no tracked instances ---------------------------------------------------------------


def _stop_tracking_instances() -> None:
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[assignment, method-assign]
    reset_model_data()  # let go of what was tracked before the patch


# --- 3. TTL -------------------------------------------------------------------------------


def _dynamodb_tables() -> Iterator[Any]:
    from moto.dynamodb.models import dynamodb_backends

    for regions in list(dynamodb_backends.values()):
        for backend in list(regions.values()):
            yield from list(backend.tables.values())


def expire_ttl_items(now: float | None = None) -> int:
    """Delete every item whose TTL has passed, in every table with TTL enabled; returns how many.

    Like DynamoDB: only a Number attribute counts (epoch seconds), and one more than five
    years in the past is left alone."""
    now = time.time() if now is None else now
    deleted = 0
    with moto_lock:
        for table in _dynamodb_tables():
            ttl = getattr(table, "ttl", {}) or {}
            attribute = ttl.get("AttributeName")
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
                continue
            for item in list(_items(table)):
                if _expired(item.attrs.get(attribute), now):
                    table.delete_item(item.hash_key, item.range_key)
                    deleted += 1
    return deleted


def _items(table: Any) -> Iterator[Any]:
    for value in list(table.items.values()):
        if table.range_key_attr is None:
            yield value
        else:
            yield from list(value.values())


def _expired(value: Any, now: float) -> bool:
    if value is None or value.type != "N":
        return False
    try:
        expires = float(value.value)
    except (TypeError, ValueError):
        return False
    return now - TTL_IGNORED_AFTER_SECONDS <= expires <= now


class TtlSweeper:
    """Runs `expire_ttl_items()` every `interval` seconds until stopped."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self.deleted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dynamodb-ttl-sweeper", daemon=True)

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.deleted += expire_ttl_items()


# --- 5. queries that read their partition, not the table ---------------------------------------

_query = threading.local()  # (table, hash key or None for an index) of the query on this thread


def _queries_read_only_their_partition() -> None:
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index = kwargs.get("index_name") or (args[6] if len(args) > 6 else None)
        outer = getattr(_query, "scope", None)
        _query.scope = (self, None if index else hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query.scope = outer

    def all_items(self: Any) -> list[Any]:
        scope = getattr(_query, "scope", None)
        if scope is None or scope[0] is not self:
            return list(original_all_items(self))
        hash_key = scope[1]
        if hash_key is None:  # an index: every item, in any order (moto sorts the matches)
            return list(_items(self))
        if hash_key not in self.items:  # .get() too: never add a key to moto's defaultdict
            return []
        bucket = self.items[hash_key]
        return list(bucket.values()) if self.range_key_attr else [bucket]

    query.__wrapped__ = original_query  # type: ignore[attr-defined]
    all_items.__wrapped__ = original_all_items  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


# --- 7. sends and receives that do not count the queue ----------------------------------------

_sending = threading.local()  # set while this thread is inside SQS SendMessage(Batch) / ReceiveMessage

#: Queue properties that walk every message; `Queue.attributes` reads each of them.
QUEUE_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_not_visible",
    "approximate_number_of_messages_delayed",
)


def _sends_do_not_count_the_queue() -> None:
    from moto.sqs.models import Queue, SQSBackend

    for name in QUEUE_COUNTS:
        counted = getattr(Queue, name)

        def count(self: Any, _counted: Any = counted) -> int:
            return 0 if getattr(_sending, "active", False) else int(_counted.fget(self))

        count.__wrapped__ = counted.fget  # type: ignore[attr-defined]
        setattr(Queue, name, property(count))

    for name in ("send_message", "send_message_batch", "receive_message"):
        original = getattr(SQSBackend, name)

        def send(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            outer = getattr(_sending, "active", False)
            _sending.active = True
            try:
                return _original(self, *args, **kwargs)
            finally:
                _sending.active = outer

        send.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(SQSBackend, name, send)


# --- 8. DynamoDB AttributeValues written without the model-driven serializer ------------------

#: AttributeValue members moto's serializer writes as they are (boolean shapes).
_BOOLEAN_MEMBERS = ("BOOL", "NULL")


class _NotPlain(Exception):
    """An AttributeValue this fast path does not know: moto's serializer writes it instead."""


def _attribute_value(serializer: Any, value: Any) -> dict[str, Any]:
    """One AttributeValue as moto's JSON serializer writes it: strings as str(), binaries in
    base64 (`_base64`), maps and lists member by member, members that are None left out."""
    if not isinstance(value, dict):
        raise _NotPlain
    written: dict[str, Any] = {}
    for member, inner in value.items():
        if inner is None:
            continue
        if member == "M":
            written[member] = {key: _attribute_value(serializer, v) for key, v in inner.items()}
        elif member == "L":
            written[member] = [_attribute_value(serializer, v) for v in inner]
        elif member == "B":
            written[member] = serializer._base64(inner)
        elif member == "BS":
            written[member] = [serializer._base64(v) for v in inner]
        elif member in ("SS", "NS"):
            written[member] = [str(v) if v not in (None, {}, []) else v for v in inner]
        elif member in ("S", "N"):
            written[member] = str(inner) if inner not in ({}, []) else inner
        elif member in _BOOLEAN_MEMBERS:
            written[member] = inner
        else:
            raise _NotPlain
    return written


def _attribute_values_written_directly() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and value is not None:
            try:
                written = _attribute_value(self, value)
            except _NotPlain:
                pass
            else:
                self._default_serialize(serialized, written, shape, key)
                return
        original(self, serialized, value, shape, key)

    structure.__wrapped__ = original  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = structure  # type: ignore[method-assign]


# --- 6. malloc arenas -------------------------------------------------------------------------

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (threads started later share them).

    Returns False where there is no glibc to ask. An explicit MALLOC_ARENA_MAX wins."""
    import ctypes
    import ctypes.util
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


# --- 4. one request at a time ---------------------------------------------------------------


def make_moto_atomic() -> None:
    """Serialise moto's server: DynamoDB applies each conditional write atomically, but moto
    checks the condition and then writes in plain Python, so two threads could both pass.
    Without this, our locks and token leases would be tested against a weaker DynamoDB."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_atomic", False):
        return
    original = DomainDispatcherApplication.__call__

    def atomic(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        with moto_lock:
            return list(original(self, environ, start_response))

    DomainDispatcherApplication.__call__ = atomic  # type: ignore[method-assign]
    DomainDispatcherApplication._atomic = True  # type: ignore[attr-defined]
