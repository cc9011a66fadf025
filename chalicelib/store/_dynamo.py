"""Small helpers over the low-level DynamoDB client: value conversion and batch retries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.store.errors import StoreThrottledError
from chalicelib.store.schema import PK

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
T = TypeVar("T")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

MAX_BATCH_ATTEMPTS = 8


def to_attr(value: Any) -> AttributeValue:
    """One Python value as an attribute value; floats go through Decimal (boto3 refuses floats)."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, str):
        value = str(value)  # StrEnum members become their plain value
    attribute: AttributeValue = _serializer.serialize(value)
    return attribute


def to_item(values: Mapping[str, Any]) -> Item:
    """An item from a mapping, leaving out None so absent fields stay absent (and GSIs sparse)."""
    return {name: to_attr(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def as_int(value: Any, default: int = 0) -> int:
    return default if value is None else int(value)


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def is_condition_failure(exc: ClientError) -> bool:
    code: str | None = exc.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


def write_if(call: Callable[..., Any], **kwargs: Any) -> bool:
    """One conditional write: True when done, False when its condition failed; other errors raise."""
    try:
        call(**kwargs)
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def version_condition(expected: int) -> dict[str, Any]:
    """Optimistic locking on a `version` attribute; version 0 means "new": no item may exist."""
    if expected == 0:
        return {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PK}}
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":v": {"N": str(expected)}},
    }


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def backoff_delays(base: float = 0.05, cap: float = 2.0) -> Iterable[float]:
    """Full-jitter exponential delays, as AWS recommends for retrying unprocessed batch items."""
    for attempt in range(MAX_BATCH_ATTEMPTS - 1):
        yield random.uniform(0, min(cap, base * 2**attempt))


def retry_unprocessed(
    operation: str,
    send: Callable[[T], T | None],
    request: T,
    count: Callable[[T], int],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Call `send(request)` until it returns nothing left to do, backing off in between.

    `send` performs one batch call and returns the unprocessed remainder (or None).
    Throttled leftovers are normal for BatchGetItem/BatchWriteItem, not an error.
    """
    pending = send(request)
    for delay in backoff_delays():
        if not pending or count(pending) == 0:
            return
        sleep(delay)
        pending = send(pending)
    if pending and count(pending):
        raise StoreThrottledError(operation, count(pending))


class Expression:
    """Builds UpdateExpression/ConditionExpression text with placeholders for every name and value.

    Placeholders keep reserved words (name, owner, ttl...) and values out of the
    expression text.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, AttributeValue] = {}
        self._sets: list[str] = []
        self._removes: list[str] = []

    def name(self, attribute: str) -> str:
        for placeholder, existing in self._names.items():
            if existing == attribute:
                return placeholder
        placeholder = f"#n{len(self._names)}"
        self._names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = to_attr(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> Expression:
        """SET the attribute, or REMOVE it when value is None."""
        if value is None:
            return self.remove(attribute)
        self._sets.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def set_raw(self, attribute: str, expression: str) -> Expression:
        """SET attribute = expression, where the expression uses placeholders from name()/value()."""
        self._sets.append(f"{self.name(attribute)} = {expression}")
        return self

    def remove(self, *attributes: str) -> Expression:
        self._removes.extend(self.name(a) for a in attributes)
        return self

    def update_args(self, condition: str | None = None) -> dict[str, Any]:
        parts = []
        if self._sets:
            parts.append("SET " + ", ".join(self._sets))
        if self._removes:
            parts.append("REMOVE " + ", ".join(self._removes))
        args: dict[str, Any] = {"UpdateExpression": " ".join(parts), **self.names_and_values()}
        if condition:
            args["ConditionExpression"] = condition
        return args

    def names_and_values(self) -> dict[str, Any]:
        args: dict[str, Any] = {"ExpressionAttributeNames": dict(self._names)}
        if self._values:
            args["ExpressionAttributeValues"] = dict(self._values)
        return args
