"""`make run` as a newcomer meets it: `python -m sandbox.stack` in its own process.

- It starts quietly: the banner is the last thing printed, and clicks and the queue workers'
  polls add no access lines.
- VERBOSE=1 shows every request line, with OAuth codes, states and tokens redacted.
- SIGINT and SIGTERM stop it, and nothing is left listening on its ports.
- A busy port stops it at once, naming the port and the variable that chooses it.

The waits below only stop a hung test; the 5-second stop is the stack's own deadline
(sandbox.stack.STOP_DEADLINE_SECONDS) and is measured by `make soak`, not asserted here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "Ctrl-C stops everything."
PORT_VARIABLES = ("PORT", "XERO_PORT", "ZOHO_PORT", "MOTO_PORT")
ACCESS_LINE = re.compile(r'HTTP/1\.[01]" \d{3}|HTTP Request: ')
HANG_GUARD_S = 60

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RunningStack:
    """The stack's process, its ports and everything it has printed so far."""

    def __init__(self, **env: str) -> None:
        self.ports = {name: _free_port() for name in PORT_VARIABLES}
        self.lines: list[str] = []
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XERO_", "ZOHO_"))}
        clean.pop("VERBOSE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.stack"],
            cwd=ROOT,
            env={**clean, **{k: str(v) for k, v in self.ports.items()}, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def url(self, variable: str) -> str:
        return f"http://127.0.0.1:{self.ports[variable]}"

    def wait_for_banner(self) -> int:
        """Index of the banner's last line."""
        ends = time.monotonic() + HANG_GUARD_S
        while BANNER_END not in self.lines:
            if self.process.poll() is not None or time.monotonic() > ends:
                raise AssertionError("the stack never printed its banner:\n" + "\n".join(self.lines))
            time.sleep(0.1)
        return self.lines.index(BANNER_END)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # the stack dumps every thread's stack
            time.sleep(2)
            raise AssertionError("the stack did not stop:\n" + "\n".join(self.lines[-200:])) from None
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start() -> Iterator[type[RunningStack]]:
    started: list[RunningStack] = []

    def make(**env: str) -> RunningStack:
        stack = RunningStack(**env)
        started.append(stack)
        return stack

    yield make  # type: ignore[misc]
    for stack in started:
        stack.kill()


def test_quiet_start_clicks_and_ctrl_c_leave_nothing_listening(start: type[RunningStack]) -> None:
    stack = start()
    banner_end = stack.wait_for_banner()
    time.sleep(1.5)  # idle: the queue workers poll moto several times a second
    assert stack.lines[banner_end + 1 :] == [], "something was printed after the banner while idle"

    with httpx.Client(timeout=60) as http:
        clicked = http.post(f"{stack.url('ZOHO_PORT')}/__sandbox__/button/5725767000000400001")
        assert clicked.json()["status_code"] == 200
        assert http.get(f"{stack.url('PORT')}/health").status_code == 200
    time.sleep(1.0)

    assert stack.stop(signal.SIGINT) == 0
    after_banner = stack.lines[banner_end + 1 :]
    assert [line for line in after_banner if ACCESS_LINE.search(line)] == []
    # The queue worker may still finish what it holds (e.g. Xero's event for the click's own
    # write, an echo that writes nothing) between "Stopping…" and "Stopped.".
    assert "Stopping…" in after_banner and after_banner[-1] == "Stopped."
    assert [v for v, port in stack.ports.items() if _listening(port)] == []


def test_verbose_shows_request_lines_without_oauth_secrets(start: type[RunningStack]) -> None:
    stack = start(VERBOSE="1")
    stack.wait_for_banner()
    with httpx.Client(timeout=60) as http:
        http.get(f"{stack.url('PORT')}/portal/connect/xero/callback?code=SECRETCODE111&state=SECRETSTATE222")
        http.post(
            f"{stack.url('ZOHO_PORT')}/oauth/v2/token?grant_type=refresh_token&client_id=id"
            "&client_secret=SECRETCLIENT333&refresh_token=SECRETREFRESH444"
        )
        http.get(f"{stack.url('XERO_PORT')}/__sandbox__/contacts")

    assert stack.stop(signal.SIGTERM) == 0
    output = "\n".join(stack.lines)
    assert "/portal/connect/xero/callback?code=[redacted]&state=[redacted]" in output
    assert "client_secret=[redacted]&refresh_token=[redacted]" in output
    assert '"GET /__sandbox__/contacts HTTP/1.1" 200' in output  # a stand-in's access line
    assert '"POST / HTTP/1.1" 200' in output  # moto's
    assert re.search(r"SECRET(CODE|STATE|CLIENT|REFRESH)", output) is None
    assert [v for v, port in stack.ports.items() if _listening(port)] == []


@pytest.mark.parametrize("variable", PORT_VARIABLES)
def test_a_busy_port_stops_start_up_with_the_variable_to_change(
    start: type[RunningStack], variable: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = start(**{variable: str(port)})
        code = stack.process.wait(timeout=HANG_GUARD_S)
        stack._reader.join(timeout=10)

    assert code == 1
    output = "\n".join(stack.lines)
    assert f"port {port} ({variable}) is already in use" in output
    assert f"make run {variable}=" in output
    assert "Traceback" not in output
    others = [v for v in PORT_VARIABLES if v != variable]
    assert [v for v in others if _listening(stack.ports[v])] == []
