"""Bad input is a 4xx with a message and changes nothing: the specific cases from the issue,
then hypothesis throwing arbitrary bodies, headers and query strings at every route that takes input.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.webhook_auth import sign
from tests.portal_browser import Browser
from tests.security.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, Aws, RecordingSyncer

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
DEEP = ("[" * 5000 + "]" * 5000).encode()
DEEP_OBJECT = ('{"a":' * 5000 + "1" + "}" * 5000).encode()


def _status(response: Any) -> int:
    return int(response.status_code)


# --- the cases the issue names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [DEEP, DEEP_OBJECT, b'{"account_id": "1", "x": ' + b"[" * 40 + b"]" * 40 + b"}"]
)
def test_deeply_nested_json_is_a_400_with_a_message_on_the_webhook(app_client: Client, body: bytes) -> None:
    response = app_client.http.post(
        "/webhooks/zoho",
        headers={"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN},
        body=body,
    )
    assert _status(response) == 400
    assert "nested more than 32 levels" in json.loads(response.body)["message"]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_is_a_400_with_a_message_on_sync_runs(
    app_client: Client, aws: Aws, body: bytes
) -> None:
    before = aws.snapshot()
    response = app_client.http.post(
        "/sync/runs", headers={"content-type": "application/json", **ADMIN}, body=body
    )
    assert _status(response) == 400
    assert "nested more than 32 levels" in json.loads(response.body)["message"]
    assert aws.snapshot() == before


def test_an_oversized_run_request_is_refused(app_client: Client, aws: Aws) -> None:
    body = json.dumps({"window": "all", "padding": "x" * 70_000}).encode()
    before = aws.snapshot()
    response = app_client.http.post(
        "/sync/runs", headers={"content-type": "application/json", **ADMIN}, body=body
    )
    assert _status(response) == 413
    assert "64 KB" in json.loads(response.body)["message"]
    assert aws.snapshot() == before


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor({"pk": {"S": "RUN#x"}, "sk": {"S": "RUN"}, "gsi1pk": {"S": "RUNS"}, "gsi1sk": {"N": "1"}}),
        _cursor({"pk": {"S": "x" * 5000}, "sk": {"S": "RUN"}, "gsi1pk": {"S": "RUNS"}, "gsi1sk": {"S": "1"}}),
        _cursor(
            {"pk": {"S": "ACCOUNT#1"}, "sk": {"S": "STATE"}, "gsi1pk": {"S": "RUNS"}, "gsi1sk": {"S": "1"}}
        ),
        _cursor(
            {"pk": {"S": "RUN#x"}, "sk": {"S": "RUN"}, "gsi1pk": {"S": "XERO#t#c"}, "gsi1sk": {"S": "1"}}
        ),
        _cursor({"pk": {"S": "RUN#x"}, "sk": {"S": "RUN"}}),
        _cursor({"pk": {"S": ""}, "sk": {"S": ""}, "gsi1pk": {"S": "RUNS"}, "gsi1sk": {"S": ""}}),
        _cursor(["a", "list"]),
        _cursor(
            {
                "pk": {"S": "RUN#x", "N": "1"},
                "sk": {"S": "RUN"},
                "gsi1pk": {"S": "RUNS"},
                "gsi1sk": {"S": "1"},
            }
        ),
    ],
)
def test_a_crafted_cursor_is_a_400(app_client: Client, cursor: str) -> None:
    listing = app_client.http.get(f"/sync/runs?cursor={quote(cursor)}", headers=ADMIN)
    assert _status(listing) == 400
    assert "cursor" in json.loads(listing.body)["message"]


@pytest.mark.parametrize(
    "target",
    [
        "/portal\r\nSet-Cookie: portal_session=x",
        "/portal/runs\r\nLocation: https://evil.example",
        "/portal/%0d%0aSet-Cookie:x",
        "//evil.example/portal",
        "/portal/../../evil",
        "/portal@evil.example",
        "/portalevil",
        "https://evil.example/portal",
        "/portal\\\\evil.example",
        "/portal/ runs",
        "/portal/" + "a" * 5000,
    ],
)
def test_sign_in_next_is_normalised_to_a_local_portal_path(browser: Browser, target: str) -> None:
    browser.get("/portal/signin")
    response = browser.post(
        "/portal/signin", {"csrf_token": browser.csrf(), "password": "a long portal password", "next": target}
    )
    assert _status(response) == 303
    location = response.headers["Location"]
    assert location == "/portal" or (
        location.startswith("/portal/") and "\r" not in location and "\n" not in location
    )
    assert location in ("/portal", "/portal/%0d%0aSet-Cookie:x")


def test_a_local_next_survives_sign_in(browser: Browser) -> None:
    browser.get("/portal/signin")
    response = browser.post(
        "/portal/signin",
        {
            "csrf_token": browser.csrf(),
            "password": "a long portal password",
            "next": "/portal/runs?cursor=abc",
        },
    )
    assert response.headers["Location"] == "/portal/runs?cursor=abc"


# --- property-based: arbitrary input, never a 5xx, no side effect on a 4xx --------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ids = st.one_of(st.just("5725767000000400001"), st.text(max_size=40), st.integers(), st.none())
webhook_like = st.fixed_dictionaries(
    {},
    optional={
        "account_id": ids,
        "contact_id": ids,
        "source": st.sampled_from(["button", "workflow", "x", ""]),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    webhook_like.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda n: ("[" * n + "]" * n).encode()),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5).map(
        lambda d: urlencode(d).encode()
    ),
)
content_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "application/json; charset=utf-8", "text/plain"]
)
query_values = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    json_values.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
)
queries = st.dictionaries(
    st.sampled_from(["cursor", "limit", "all", "next", "notice", "state", "code", "error", "x"]),
    query_values,
    max_size=4,
)
run_ids = st.one_of(st.just("20260301-000000-abcdef00"), st.text(min_size=1, max_size=1500))
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def _check(response: Any, aws: Aws, before: Any, syncer: RecordingSyncer, synced_before: int) -> None:
    status = _status(response)
    assert status < 500, (status, response.body[:300])
    if 400 <= status < 500:
        assert aws.snapshot() == before, f"a {status} changed the table or the queues"
        assert len(syncer.synced) == synced_before, f"a {status} synced an Account"


@FUZZ
@given(
    body=bodies,
    content_type=content_types,
    token=st.sampled_from([WEBHOOK_TOKEN, "wrong", None]),
    signature=st.one_of(st.none(), st.just("sign"), header_text),
    timestamp=st.one_of(st.none(), header_text, st.just(str(int(time.time())))),
    query=queries,
)
def test_the_webhook_never_fails_on_bad_input(
    app_client: Client,
    aws: Aws,
    syncer: RecordingSyncer,
    body: bytes,
    content_type: str,
    token: str | None,
    signature: str | None,
    timestamp: str | None,
    query: dict[str, str],
) -> None:
    headers = {"content-type": content_type}
    if token is not None:
        headers["x-webhook-token"] = token
    if timestamp is not None:
        headers["x-webhook-timestamp"] = timestamp
    if signature == "sign":
        headers["x-webhook-signature"] = sign(body, WEBHOOK_TOKEN, timestamp or "")
    elif signature is not None:
        headers["x-webhook-signature"] = signature
    before, synced = aws.snapshot(), len(syncer.synced)
    response = app_client.http.post(f"/webhooks/zoho?{urlencode(query)}", headers=headers, body=body)
    _check(response, aws, before, syncer, synced)


@FUZZ
@given(
    method_path=st.sampled_from(
        [
            ("POST", "/sync/runs"),
            ("GET", "/sync/runs"),
            ("GET", "/sync/runs/{run_id}"),
            ("GET", "/sync/runs/{run_id}/problems"),
            ("POST", "/sync/runs/{run_id}/retry"),
        ]
    ),
    run_id=run_ids,
    body=bodies,
    content_type=content_types,
    authorised=st.booleans(),
    query=queries,
)
def test_the_admin_api_never_fails_on_bad_input(
    app_client: Client,
    aws: Aws,
    syncer: RecordingSyncer,
    method_path: tuple[str, str],
    run_id: str,
    body: bytes,
    content_type: str,
    authorised: bool,
    query: dict[str, str],
) -> None:
    method, path = method_path
    headers = {"content-type": content_type, **(ADMIN if authorised else {"authorization": "Bearer x"})}
    url = path.replace("{run_id}", quote(run_id, safe="")) + (f"?{urlencode(query)}" if query else "")
    before, synced = aws.snapshot(), len(syncer.synced)
    response = app_client.http.request(method, url, headers=headers, body=body if method == "POST" else b"")
    _check(response, aws, before, syncer, synced)


PORTAL_FORMS = [
    "/portal/sync",
    "/portal/settings/notifications",
    "/portal/connect/xero",
    "/portal/connect/{x}",
    "/portal/xero-organisation",
    "/portal/accounts/{x}/sync",
    "/portal/runs/{x}/retry",
    "/portal/signin",
]
PORTAL_PAGES = [
    "/portal",
    "/portal/runs",
    "/portal/runs/{x}",
    "/portal/accounts",
    "/portal/accounts/{x}",
    "/portal/api/runs/{x}",
    "/portal/connect",
    "/portal/connect/{x}/callback",
    "/portal/settings",
    "/portal/sync",
    "/portal/signin",
    "/portal/static/{x}",
]
form_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(
            ["window", "days", "dry_run", "recipients", "only_problems", "tenant_id", "password", "next"]
        ),
        st.text(max_size=12),
    ),
    st.text(max_size=80),
    max_size=6,
)
path_parts = st.one_of(st.text(min_size=1, max_size=200), st.just("5725767000000400001"), st.just("xero"))


@pytest.fixture
def portal_user(signed_in: Browser) -> Browser:
    signed_in.get("/portal/sync")
    return signed_in


@FUZZ
@given(
    path=st.sampled_from(PORTAL_FORMS),
    part=path_parts,
    fields=form_fields,
    with_csrf=st.booleans(),
    raw=st.one_of(st.none(), bodies),
)
def test_portal_forms_never_fail_on_bad_input(
    portal_user: Browser,
    aws: Aws,
    syncer: RecordingSyncer,
    path: str,
    part: str,
    fields: dict[str, str],
    with_csrf: bool,
    raw: bytes | None,
) -> None:
    token = portal_user.csrf() if portal_user.last.body and b"csrf_token" in portal_user.last.body else ""
    if with_csrf:
        fields = {**fields, "csrf_token": token}
    body = raw if raw is not None else urlencode(fields).encode()
    before, synced = aws.snapshot(), len(syncer.synced)
    response = portal_user.send(
        "POST",
        path.replace("{x}", quote(part, safe="")),
        {"content-type": "application/x-www-form-urlencoded"},
        body,
    )
    _check(response, aws, before, syncer, synced)
    portal_user.get("/portal/sync")  # a fresh page (and CSRF token) for the next example


@FUZZ
@given(path=st.sampled_from(PORTAL_PAGES), part=path_parts, query=queries, signed=st.booleans())
def test_portal_pages_never_fail_on_bad_query_strings(
    portal_user: Browser,
    app_client: Client,
    aws: Aws,
    syncer: RecordingSyncer,
    path: str,
    part: str,
    query: dict[str, str],
    signed: bool,
) -> None:
    browser = portal_user if signed else Browser(app_client)
    url = path.replace("{x}", quote(part, safe="")) + (f"?{urlencode(query)}" if query else "")
    before, synced = aws.snapshot(), len(syncer.synced)
    response = browser.get(url)
    _check(response, aws, before, syncer, synced)
