"""End-to-end: a real browser (Debian's chromium, driven by Playwright) against the whole stack.

One stack for the package: moto's server, the Zoho and Xero stand-ins, the Chalice app over
HTTP, and queue workers that play Lambda's SQS event sources so runs make progress. Every
test starts from seeded stand-ins, an empty table and empty queues, in a fresh browser
context (no cookies).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from sandbox.stack import LOCAL_PORTAL_PASSWORD, LocalStack, QueueWorker, StackConfig

CHROMIUM = os.environ.get("PORTAL_E2E_CHROMIUM", "/usr/bin/chromium")
PASSWORD = LOCAL_PORTAL_PASSWORD
TIMEOUT_MS = 20_000

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
SKIPPED_ON_REQUEST = os.environ.get("SKIP_E2E") == "1"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """SKIP_E2E=1 skips each browser test by name, so the summary counts every one of them."""
    if not SKIPPED_ON_REQUEST:
        return
    skip = pytest.mark.skip(reason="SKIP_E2E=1: the portal's browser tests were not run")
    for item in items:
        if str(item.path).startswith(E2E_DIR):
            item.add_marker(skip)


if not SKIPPED_ON_REQUEST and not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
    # Never a silent skip: a newcomer and CI must test the same things (`make test` installs it).
    pytest.exit(
        f"The portal's browser tests need Debian's chromium ({CHROMIUM}), which is not installed. "
        "Run `make e2e-deps` (as root), or set SKIP_E2E=1 to skip these tests.",
        returncode=4,
    )
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FastWorker(QueueWorker):
    """A queue worker that polls without long-polling.

    moto's server is serialised in the stack (see make_moto_atomic), so a 1-second long poll
    would hold every other AWS call; a short poll and a short pause keep pages fast.
    """

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(0.2)
            except Exception:
                self._stop.wait(0.5)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    xero_port = _free_port()
    config = StackConfig(
        app_port=0,
        xero_port=xero_port,
        zoho_port=0,
        moto_port=0,
        start_worker=False,
        env={
            "TABLE_NAME": "e2e-sync",
            "SYNC_QUEUE_NAME": "e2e-sync.fifo",
            "RUNS_QUEUE_NAME": "e2e-runs",
            # Xero's consent page is on its login host; the stand-in serves it too.
            "XERO_LOGIN_URL": f"http://127.0.0.1:{xero_port}",
        },
    )
    with LocalStack(config) as running:
        workers = [FastWorker(os.environ["SYNC_QUEUE_URL"], poll_seconds=0)]
        if os.environ.get("RUNS_QUEUE_URL"):
            workers += [
                FastWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="run_worker", max_messages=1)  # type: ignore[call-arg]
                for _ in range(2)
            ]
        for worker in workers:
            worker.start()
        try:
            yield running
        finally:
            for worker in workers:
                worker.stop()


@pytest.fixture
def live(stack: LocalStack) -> Iterator[LocalStack]:
    """A clean slate: seeded stand-ins, an empty table, empty queues, a fresh container."""
    from chalicelib import wiring
    from chalicelib.settings import get_settings
    from chalicelib.store.schema import create_table

    settings = get_settings()
    for url in filter(None, (os.environ.get("SYNC_QUEUE_URL"), os.environ.get("RUNS_QUEUE_URL"))):
        _empty_queue(url)
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_table(TableName=settings.TABLE_NAME)
    create_table(dynamodb, settings.TABLE_NAME, poll_seconds=0.1)
    stack.xero.reset()
    stack.zoho.reset()
    wiring._container.cache_clear()
    yield stack


def _empty_queue(url: str) -> None:
    sqs = boto3.client("sqs")
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        if not messages:
            return
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any, live: LocalStack) -> Iterator[Any]:
    ctx = browser.new_context(base_url=live.app_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def sign_in(page: Any) -> Callable[..., Any]:
    def go(password: str = PASSWORD) -> Any:
        page.goto("/portal")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return go


@pytest.fixture
def signed_in(sign_in: Callable[..., Any]) -> Any:
    page = sign_in()
    sync_api.expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    return page


def wait_until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll a condition (never a timed assertion: the limit only stops a hung test)."""
    ends = time.monotonic() + seconds
    while not check():
        if time.monotonic() > ends:
            raise AssertionError("the condition never held")
        time.sleep(0.1)


@pytest.fixture
def holding(live: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The in-process app under SYNC_MODE=both and CONFLICT_POLICY=hold (settings are read at
    call time; the container is rebuilt so the Both Way merge is wired in)."""
    from chalicelib import wiring

    monkeypatch.setenv("SYNC_MODE", "both")
    monkeypatch.setenv("CONFLICT_POLICY", "hold")
    wiring._container.cache_clear()
    yield live
    wiring._container.cache_clear()
