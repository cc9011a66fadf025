"""The Account's lock: every change to one Account (a click, a Xero event, an archive, a merge,
a person resolving a conflict) holds it, so two of them never interleave their reads and writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from chalicelib.deadline import Deadline


class Locks(Protocol):  # store/locks.LockRepository
    def hold(
        self, name: str, owner: str, ttl_seconds: float, wait_seconds: float = 0.0, poll: float = 0.1
    ) -> AbstractContextManager[bool]: ...


@contextmanager
def account_lock(
    locks: Locks,
    account_id: str,
    *,
    purpose: str,
    deadline: Deadline,
    lock_seconds: float,
    busy: Exception,
) -> Iterator[None]:
    """Hold `account#<id>`, waiting for it as long as the deadline and the lock's own life
    allow; raises `busy` (what the caller's user should hear) when it stays taken."""
    wait = min(deadline.remaining(), lock_seconds)
    with locks.hold(f"account#{account_id}", f"{purpose}-{uuid.uuid4()}", lock_seconds, wait) as acquired:
        if not acquired:
            raise busy
        yield


ANOTHER_SYNC_RUNNING = "Another sync of this Account is running; trying again shortly."
