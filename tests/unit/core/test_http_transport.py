"""What goes over the wire: timeouts on every call, kept-alive connections, faults from a real socket.

The status rules are in test_http_rules.py. Here a real `requests` session talks to a small
HTTP/1.1 server on an ephemeral port (or to a scripted adapter where only the request matters).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.http import HttpService, RetryPolicy, session
from tests.scripted_http import ScriptedAdapter, adapter_of, reply, scripted_session

NO_RETRY = RetryPolicy(attempts=1)


class Upstream(ThreadingHTTPServer):
    """An upstream that keeps connections alive and counts them; `behaviour` says how it answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.behaviour = "ok"
        self.together = threading.Barrier(1)  # callers that must be in flight at once
        self.release = threading.Event()  # ends a stalled answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: Upstream

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        if behaviour == "together":
            self.server.together.wait(timeout=5)
        if behaviour == "silent":
            self.server.release.wait(timeout=5)
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour == "stalls":  # the headers and one byte, then nothing
            self.wfile.write(body[:1])
            self.wfile.flush()
            self.server.release.wait(timeout=5)
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_calls_in_sequence_reuse_one_connection(upstream: Upstream) -> None:
    http = HttpService("Xero", session(5))
    for _ in range(10):
        assert http.send("GET", upstream.url + "/api").json() == {"ok": True}
    assert upstream.connections == 1


def test_the_pool_keeps_a_warm_connection_for_every_call_we_allow_at_once(upstream: Upstream) -> None:
    """Xero allows 5 calls in flight: two rounds of 5 at once open 5 connections, not 10."""
    http = HttpService("Xero", session(5))
    upstream.behaviour, upstream.together = "together", threading.Barrier(5)
    with ThreadPoolExecutor(5) as pool:
        for _ in range(2):
            answers = list(pool.map(lambda _: http.send("GET", upstream.url + "/api").status_code, range(5)))
            assert answers == [200] * 5
    assert upstream.connections == 5


def test_an_upstream_that_never_answers_did_not_answer_in_time(upstream: Upstream) -> None:
    upstream.behaviour = "silent"
    http = HttpService("Zoho CRM", session(2), timeout=0.2, retry=NO_RETRY)
    with pytest.raises(RetriableError) as raised:
        http.send("GET", upstream.url + "/crm/v8/Accounts/1")
    assert raised.value.message == "Zoho CRM did not answer in time. We will try again."
    assert raised.value.detail == "ReadTimeout on GET /crm/v8/Accounts/1"


def test_an_answer_that_stops_half_way_did_not_answer_in_time(upstream: Upstream) -> None:
    upstream.behaviour = "stalls"
    http = HttpService("Xero", session(2), timeout=0.2, retry=NO_RETRY)
    with pytest.raises(RetriableError) as raised:
        http.send("GET", upstream.url + "/api.xro/2.0/Contacts")
    assert raised.value.message == "Xero did not answer in time. We will try again."


def test_nothing_listening_could_not_be_reached() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    http = HttpService("Xero", session(2), retry=NO_RETRY)
    with pytest.raises(RetriableError) as raised:
        http.send("GET", f"http://127.0.0.1:{port}/connect/token")
    assert raised.value.message == "Could not reach Xero. We will try again."
    assert raised.value.detail == "ConnectionError on GET /connect/token"


def test_every_call_has_connect_and_read_timeouts_cut_to_the_deadline() -> None:
    scripted = scripted_session([reply(200), reply(200)])
    http = HttpService("Xero", scripted, timeout=10, connect_timeout=3)

    http.send("GET", "https://api.xero.test/a", deadline=Deadline(60))
    http.send("GET", "https://api.xero.test/b", deadline=Deadline(2))

    first, second = adapter_of(scripted).timeouts
    assert first == (3, 10)
    assert second[0] == second[1] and 0 < second[1] <= 2


def test_a_redirect_comes_back_to_the_caller_unfollowed() -> None:
    scripted = scripted_session([reply(302, Location="https://elsewhere.test/")])
    http = HttpService("Zoho CRM", scripted)

    assert http.send("GET", "https://zoho.test/crm/v8/Accounts/1").status_code == 302
    assert len(adapter_of(scripted).sent) == 1


def test_json_bodies_go_out_compact_and_in_utf8() -> None:
    scripted = scripted_session([reply(200)])
    http = HttpService("Xero", scripted)

    http.send("POST", "https://api.xero.test/Contacts", json={"Name": "Café Ōtaki"}, headers={"A": "b"})

    (sent,) = adapter_of(scripted).sent
    assert sent.body == '{"Name":"Café Ōtaki"}'.encode()
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["A"] == "b"
    assert json.loads(sent.body) == {"Name": "Café Ōtaki"}


def test_a_netrc_entry_for_the_host_never_replaces_our_authorization(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests reads ~/.netrc for calls without auth; our OAuth header must go out unchanged."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.xero.test login someone password their-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    scripted = session(1)
    scripted.mount("https://", ScriptedAdapter([reply(200)]))

    HttpService("Xero", scripted).send(
        "GET", "https://api.xero.test/Contacts", headers={"Authorization": "Bearer ours"}
    )

    (sent,) = adapter_of(scripted).sent
    assert sent.headers["Authorization"] == "Bearer ours"
