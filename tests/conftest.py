"""Fixtures shared by every test: the Zoho and Xero stand-ins on ephemeral ports.

Each fixture gives a `Running` object: `.app` is the stand-in (its Python API for
arranging state and reading the call log) and `.url` is its base URL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from sandbox.common import ServerThread
from sandbox.moto_fit import fit_moto

# In-process moto (mock_aws) gets the same fixes as the local stacks' moto server: no
# whole-table copies per transaction and no retained model instances (sandbox/moto_fit.py).
fit_moto()


@dataclass
class Running:
    app: Any
    url: str


def _serve(app: Any) -> Iterator[Running]:
    server = ServerThread(app).start()
    try:
        yield Running(app=app, url=server.url)
    finally:
        server.stop()


@pytest.fixture
def xero_sandbox() -> Iterator[Running]:
    from sandbox.xero import XeroSandbox

    yield from _serve(XeroSandbox())


@pytest.fixture
def zoho_sandbox() -> Iterator[Running]:
    from sandbox.zoho import ZohoSandbox

    yield from _serve(ZohoSandbox())


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serialise moto's request handling, as DynamoDB makes each conditional write atomic.

    moto evaluates a condition and then writes in plain Python, so two threads can
    both pass the check; real DynamoDB never lets that happen. Without this the
    threaded tests would test moto, not our conditions.
    """
    lock = threading.Lock()
    original = BotocoreStubber.process_request

    def locked(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", locked)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Always say how many tests were skipped, and why (grouped by reason)."""
    from collections import Counter

    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    total = sum(reasons.values())
    terminalreporter.write_line(f"skipped: {total} test{'' if total == 1 else 's'}" + (":" if total else ""))
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"  {count} - {reason}")
