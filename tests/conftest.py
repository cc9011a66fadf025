"""Fixtures shared by every test: the Zoho and Xero stand-ins on ephemeral ports.

Each fixture gives a `Running` object: `.app` is the stand-in (its Python API for
arranging state and reading the call log) and `.url` is its base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.common import ServerThread


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
