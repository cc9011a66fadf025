"""Upstream answers from a script, for unit tests of chalicelib/http.py and what sits on it.

`scripted_session(answers)` is a real `requests.Session` whose transport adapter, instead of
opening a socket, hands each request to the next function in `answers`. A function returns a
`Reply` (status, headers, JSON body) or raises what requests' own adapter raises for a network
fault (`requests.exceptions.ReadTimeout`, `ConnectionError`...). The reply is turned into a
`requests.Response` by requests itself (`HTTPAdapter.build_response` over a urllib3 response),
so everything above the socket is the real library. Tests that need a real server use the
stand-ins instead.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse


@dataclass
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None

    def raw(self) -> HTTPResponse:
        body = b"" if self.json is None else json.dumps(self.json).encode()
        headers = (
            {"Content-Type": "application/json", **self.headers} if self.json is not None else self.headers
        )
        return HTTPResponse(
            body=io.BytesIO(body), headers=dict(headers), status=self.status, preload_content=False
        )


Answer = Callable[[requests.PreparedRequest], Reply]


def reply(status: int = 200, json: Any = None, **headers: str) -> Answer:
    """An answer that always replies `status` with `headers` (and `json` as the body)."""
    return lambda request: Reply(status, headers, json)


class ScriptedAdapter(HTTPAdapter):
    """Answers each request with the next function of the script; keeps what was sent."""

    def __init__(self, answers: list[Answer]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        self.timeouts.append(timeout)
        return response_to(request, self.answers.pop(0)(request))


def scripted_session(answers: list[Answer]) -> requests.Session:
    session = requests.Session()
    adapter = ScriptedAdapter(answers)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def adapter_of(session: requests.Session) -> ScriptedAdapter:
    adapter = session.get_adapter("https://")
    assert isinstance(adapter, ScriptedAdapter)
    return adapter


def response_to(request: requests.PreparedRequest, answer: Reply) -> requests.Response:
    """`answer` as requests builds a response for `request` from the wire."""
    return HTTPAdapter().build_response(request, answer.raw())


def prepared(method: str, url: str, headers: Mapping[str, str] | None = None) -> requests.PreparedRequest:
    return requests.Request(method, url, headers=dict(headers or {})).prepare()
