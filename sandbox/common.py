"""Pieces both stand-ins share: a controllable clock, fault injection and an
in-process server on an ephemeral port."""

from __future__ import annotations

import contextlib
import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class Clock:
    """Wall clock with an offset that tests and demos can move forward."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


@dataclass
class Fault:
    """One injected fault, applied to the next `count` matching calls."""

    count: int = 1
    status: int | None = None  # e.g. 500, 503, 429
    retry_after: int | None = None  # seconds, for 429
    delay: float = 0.0  # seconds to sleep before answering
    drop: bool = False  # close the connection without an answer
    path_prefix: str = ""  # only calls whose path starts with this
    method: str = ""  # only calls with this method ("" = any)
    body: Any = None  # optional body to answer with (JSON-serialisable)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return (and consume one use of) the first fault matching this call."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{k: v for k, v in vars(f).items() if not k.startswith("_")} for f in self.faults]


def drop_connection(environ: dict) -> list[bytes]:
    """Close the client's socket without answering (a 'dropped connection' fault).

    Call it from a WSGI app and return its result; the client sees the
    connection reset / remote end closed before any response bytes.
    """
    import socket

    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    return []


class PortInUse(OSError):
    """The port a local server should listen on is taken by another program."""

    def __init__(self, host: str, port: int, variable: str = "") -> None:
        super().__init__(errno.EADDRINUSE, f"{host}:{port} is already in use")
        self.host, self.port, self.variable = host, port, variable


@contextlib.contextmanager
def port_in_use_as_error(host: str, port: int) -> Any:
    """Turn "address already in use" from a bind into PortInUse (other OSErrors pass)."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from exc
        raise


class ServerThread:
    """Serve a WSGI app on 127.0.0.1 in a daemon thread (port 0 = ephemeral).

    The socket is bound here, in the caller's thread, so a busy port raises PortInUse at once
    instead of failing inside the server thread."""

    def __init__(
        self, app: Callable, host: str = "127.0.0.1", port: int = 0, *, request_handler: Any = None
    ) -> None:
        self.app = app
        with port_in_use_as_error(host, port):
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=request_handler
            )
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever for a loop that never started
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
