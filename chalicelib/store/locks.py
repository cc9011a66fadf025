"""Named leases with an owner and an expiry, for "only one worker at a time" sections.

The per-Account lock keeps two syncs of the same Account (double clicks, a
webhook racing a bulk run) from both creating a Xero contact. A lock expires on
its own, so a crashed Lambda cannot block an Account forever. Expiry is checked
in our conditions, not left to DynamoDB TTL, which deletes items only eventually
(and never under moto); `ttl` merely cleans old lock items up.

`owner` must be unique per attempt (e.g. a uuid4), or two workers would share a lock.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

ENTITY = "LOCK"


class LockRepository:
    """Acquire, extend and release leases stored as pk LOCK#{name}, sk LOCK."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        clock: Callable[[], float] = time.time,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._sleep = sleep

    def acquire(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lock if it is free, expired, or already ours (then its expiry is renewed)."""
        now = self._clock()
        expires_at = now + ttl_seconds
        item = d.to_item(
            {
                s.PK: s.lock_pk(name),
                s.SK: s.LOCK_SK,
                "entity": ENTITY,
                "name": name,
                "owner": owner,
                "acquired_at": now,
                "expires_at": expires_at,
                s.TTL: math.ceil(expires_at),
            }
        )
        return d.write_if(
            self._client.put_item,
            TableName=self._table,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk) OR #exp <= :now OR #owner = :owner",
            ExpressionAttributeNames={"#pk": s.PK, "#exp": "expires_at", "#owner": "owner"},
            ExpressionAttributeValues={":now": d.to_attr(now), ":owner": d.to_attr(owner)},
        )

    def release(self, name: str, owner: str) -> None:
        """Give the lock up; a no-op when it is already gone or someone else holds it now."""
        d.write_if(
            self._client.delete_item,
            TableName=self._table,
            Key=s.key(s.lock_pk(name), s.LOCK_SK),
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": d.to_attr(owner)},
        )

    def extend(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Push our expiry to now + ttl_seconds; False if the lock is no longer ours.

        Only ownership is checked, not expiry: anyone who took an expired lock
        overwrote `owner`, and a release deleted the item, so an item still naming
        us proves nobody else held the lock in the meantime.
        """
        expires_at = self._clock() + ttl_seconds
        return d.write_if(
            self._client.update_item,
            TableName=self._table,
            Key=s.key(s.lock_pk(name), s.LOCK_SK),
            UpdateExpression="SET #exp = :exp, #ttl = :ttl",
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#exp": "expires_at", "#ttl": s.TTL, "#owner": "owner"},
            ExpressionAttributeValues={
                ":exp": d.to_attr(expires_at),
                ":ttl": d.to_attr(math.ceil(expires_at)),
                ":owner": d.to_attr(owner),
            },
        )

    def holder(self, name: str) -> str | None:
        """Who holds the lock right now (None if free or expired); for diagnosis."""
        response = self._client.get_item(
            TableName=self._table, Key=s.key(s.lock_pk(name), s.LOCK_SK), ConsistentRead=True
        )
        values = d.from_item(response.get("Item", {}))
        if not values or float(values["expires_at"]) <= self._clock():
            return None
        return str(values["owner"])

    def acquire_waiting(
        self, name: str, owner: str, ttl_seconds: float, wait_seconds: float, poll: float = 0.1
    ) -> bool:
        """Try to acquire until it works or `wait_seconds` have passed.

        Sleeps are jittered (0.5-1.5 x poll) so waiters that collided once do not
        keep colliding in lock-step.
        """
        deadline = self._clock() + wait_seconds
        while True:
            if self.acquire(name, owner, ttl_seconds):
                return True
            remaining = deadline - self._clock()
            if remaining <= 0:
                return False
            self._sleep(min(remaining, poll * random.uniform(0.5, 1.5)))

    @contextmanager
    def hold(
        self, name: str, owner: str, ttl_seconds: float, wait_seconds: float = 0.0, poll: float = 0.1
    ) -> Iterator[bool]:
        """`with locks.hold(...) as acquired:` — released on exit if it was acquired.

        Yields False rather than raising when the lock stays busy, so the caller
        decides what "busy" means (tell the user, or re-queue the work).
        """
        acquired = self.acquire_waiting(name, owner, ttl_seconds, wait_seconds, poll)
        try:
            yield acquired
        finally:
            if acquired:
                self.release(name, owner)
