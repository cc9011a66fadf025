"""Fakes shared by several test packages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class FakeClock:
    """Epoch seconds moved by hand; usable as `sleep`, which advances it, remembers each wait and
    runs what the test queued in `during_sleep` (one callable per sleep, in order)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.during_sleep: list[Callable[[], object]] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.during_sleep:
            self.during_sleep.pop(0)()


class FakeXeroContacts:
    """Xero's contact reads as `XeroClient` answers them: by ContactID or ContactNumber (archived
    included), and the active contacts of a name (any case). Nothing is ever written."""

    def __init__(self, *contacts: dict[str, Any], tenant_id: str = "tenant-1") -> None:
        self.contacts = list(contacts)
        self.tenant = tenant_id

    def tenant_id(self, deadline: object) -> str:
        return self.tenant

    def get_contact(self, key: str, deadline: object) -> dict[str, Any] | None:
        for contact in self.contacts:
            if key.lower() == str(contact.get("ContactID")).lower() or key == contact.get("ContactNumber"):
                return copy.deepcopy(contact)
        return None

    def find_active_by_name(self, name: str, deadline: object) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(c)
            for c in self.contacts
            if c.get("Name", "").casefold() == name.casefold()
            and c.get("ContactStatus", "ACTIVE") == "ACTIVE"
        ]
