"""Use case: a burst of workflow events on one record becomes one queued sync.

Zoho fires a workflow webhook on every save, so five quick edits used to be five
syncs. Now each event is counted on a pending marker (chalicelib/store/pending.py)
keyed by the record's queue message group, and only the event that finds no
marker sends a message. The worker waits until the burst has been quiet for
`quiet_seconds`, deletes the marker, and only then syncs.

Why no update is lost: a sync re-reads Zoho, so it covers every save made before
it reads. An event that gets 202 is either (a) counted on a marker before the
worker deletes it - the save came before the webhook, the webhook before the
delete, and the delete before the sync reads Zoho - or (b) the sender of its own
message. DynamoDB applies the webhook's update and the worker's delete atomically,
so an event after the delete finds no marker and is (b). An event joins a marker
only once a message for it is confirmed on the queue (the maker sends, then sets
`enqueued_at`); seeing an unconfirmed marker (its maker is sending, failed or
crashed) it sends its own message, and that message takes the marker. A marker
confirmed longer ago than `stale_seconds` is not joined either (its message may
be stuck behind a failing one, or gone past the queue's retention). A message
that takes a marker always syncs afterwards, and redeliveries sync again (the
marker is already gone). Extra syncs are harmless (an unchanged Account costs no
Xero call); missing ones are not.

A Contacts-module event first waits for its own burst (group contact-{id}),
then resolves its Account and joins the Account's pending sync if one is
waiting; otherwise it syncs the Account itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.deadline import Deadline
from chalicelib.models.pending import PendingMarker
from chalicelib.models.webhook import SyncMessage

logger = logging.getLogger(__name__)

STALE_SECONDS = 15 * 60
# A record saved again and again (an import, a script) is still synced: waiting for quiet
# stops after this many quiet periods.
MAX_WAIT_PERIODS = 5
# Never wait into the time the sync itself needs before the Lambda's deadline.
SYNC_RESERVE_SECONDS = 20.0


class PendingStore(Protocol):
    def record_event(self, group: str, now: float, new_id: str) -> PendingMarker | None: ...
    def confirm_sent(self, group: str, marker_id: str, now: float) -> bool: ...
    def get(self, group: str) -> PendingMarker | None: ...
    def take(self, group: str) -> PendingMarker | None: ...
    def join(self, group: str, events: int, queued_since: float) -> bool: ...


class Queue(Protocol):
    def enqueue(self, message: SyncMessage) -> str: ...


@dataclass
class Coalescing:
    pending: PendingStore
    quiet_seconds: float  # 0 turns coalescing off: one message per event, as before
    stale_seconds: float = STALE_SECONDS
    clock: Callable[[], float] = field(default=time.time)
    sleep: Callable[[float], None] = field(default=time.sleep)

    @property
    def enabled(self) -> bool:
        return self.quiet_seconds > 0

    # --- webhook side ---------------------------------------------------------

    def queue_event(self, message: SyncMessage, queue: Queue) -> bool:
        """Queue a workflow event unless a message already on the queue will cover it.

        True when this event sent a message. An event joins only a marker whose message
        was confirmed sent, and not too long ago; otherwise it sends its own (an extra
        sync at worst), so no event relies on a send that may have failed.
        """
        if not self.enabled:
            queue.enqueue(message)
            return True
        group, now, new_id = message.group_id, self.clock(), uuid.uuid4().hex
        previous = self.pending.record_event(group, now, new_id)
        if previous is not None and self._sent_recently(previous, now):
            logger.info(
                "workflow event joins a waiting sync", extra={"group": group, "events": previous.events + 1}
            )
            return False
        queue.enqueue(message)  # if this fails the marker stays unconfirmed: the next event sends
        try:
            self.pending.confirm_sent(group, previous.marker_id if previous else new_id, self.clock())
        except Exception:  # the message is queued; unconfirmed only means the next event sends too
            logger.warning("could not confirm a queued workflow sync", extra={"group": group}, exc_info=True)
        return True

    def _sent_recently(self, marker: PendingMarker, now: float) -> bool:
        return marker.enqueued_at is not None and now - marker.enqueued_at < self.stale_seconds

    # --- worker side ----------------------------------------------------------

    def take(self, message: SyncMessage, deadline: Deadline) -> int:
        """Wait for the burst to go quiet, then take its marker. Call just before the sync.

        Returns how many events the coming sync covers; 0 when no marker is left (a
        redelivery, or an earlier message took it) - the sync still runs.
        """
        group = message.group_id
        if self.enabled:
            self._wait_for_quiet(group, deadline)
        marker = self.pending.take(group)
        return marker.events if marker else 0

    def join_account(self, account_id: str, events: int) -> bool:
        """Hand a Contact's events to the sync waiting for its Account; False if none waits."""
        group = SyncMessage(account_id=account_id).group_id
        return self.pending.join(group, max(1, events), self.clock() - self.stale_seconds)

    def _wait_for_quiet(self, group: str, deadline: Deadline) -> None:
        waited, longest = 0.0, self.quiet_seconds * MAX_WAIT_PERIODS
        while True:
            marker = self.pending.get(group)
            if marker is None:
                return
            quiet_in = marker.last_event_at + self.quiet_seconds - self.clock()
            allowed = min(longest - waited, deadline.remaining() - SYNC_RESERVE_SECONDS)
            if quiet_in <= 0 or allowed <= 0:
                return
            pause = min(quiet_in, self.quiet_seconds, allowed)
            self.sleep(pause)
            waited += pause
