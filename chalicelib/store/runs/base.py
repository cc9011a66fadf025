"""What every part of the run store shares: the client, the table and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.store import _dynamo as d


class RunTable:
    def __init__(self, client: Any, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def _query_all(self, args: dict[str, Any]) -> Iterator[d.Item]:
        while True:
            response = self._client.query(**args)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            args = {**args, "ExclusiveStartKey": response["LastEvaluatedKey"]}
