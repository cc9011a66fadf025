"""The Zoho setup kit (docs/zoho-setup.md, zoho-crm-button/sync_to_xero.deluge) says what the code does."""

from __future__ import annotations

import json
import re

import pytest

from app import app
from chalicelib.mapping import load_field_map
from chalicelib.mapping.fieldmap import FieldMap, ValueSpec
from chalicelib.models.sync import SyncStatus
from chalicelib.services.connect import ZOHO_DATA_CENTRES, ZOHO_SCOPES
from chalicelib.services.webhook_parsing import parse_webhook
from chalicelib.webhook_auth import SIGNATURE_HEADER, STALE, TIMESTAMP_HEADER, TOKEN_HEADER, refusal, sign
from chalicelib.zoho.datacentres import DATA_CENTRES
from deploy.package import ROOT
from sandbox.zoho.metadata import MODULES
from sandbox.zoho.webhooks import BUTTON_TEXTS, UNREACHABLE, button_text
from sandbox.zoho.webhooks import signature as stand_in_signature

GUIDE = (ROOT / "docs" / "zoho-setup.md").read_text()
DELUGE = (ROOT / "zoho-crm-button" / "sync_to_xero.deluge").read_text()


def _table_rows(heading: str) -> list[list[str]]:
    """Rows of the first table after `heading` (cells stripped, header and rule dropped)."""
    section = GUIDE.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def _documented_fields(heading: str) -> dict[str, list[str]]:
    """API name -> the row, from a custom-field table."""
    return {row[1].strip("`"): row for row in _table_rows(heading)}


def _custom(module: str, names: list[str]) -> set[str]:
    # Standard Zoho fields need no setup; the stand-in's metadata knows which are custom.
    return {name for name in names if name not in MODULES[module] or MODULES[module][name].custom}


def _lookup_values(field_map: FieldMap, zoho_field: str) -> tuple[str, ...]:
    def walk(node: object) -> list[ValueSpec]:
        if isinstance(node, ValueSpec):
            return [node]
        children = getattr(node, "fields", None) or {}
        found = [spec for child in children.values() for spec in walk(child)]
        for item in getattr(node, "items", ()):
            found += walk(item)
        if hasattr(node, "item"):
            found += walk(node.item)
        return found

    for spec in walk(field_map.xero_contact):
        if spec.source is not None and spec.source.field == zoho_field and spec.lookup_labels:
            return spec.lookup_labels
    raise AssertionError(f"{zoho_field} has no lookup in the field map")


def _picklist(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell.split(":", 1)[1]) if ":" in cell else []


def test_the_guide_lists_exactly_the_custom_fields_the_field_map_uses() -> None:
    field_map = load_field_map()
    assert set(_documented_fields("### Accounts")) == _custom("Accounts", field_map.account_fields())
    assert set(_documented_fields("### Contacts")) == _custom("Contacts", field_map.contact_fields())


def test_field_types_and_picklists_match_what_the_service_reads_and_writes() -> None:
    field_map = load_field_map()
    accounts = _documented_fields("### Accounts")
    assert accounts[field_map.add_to_xero_field][2] == "Checkbox"
    assert accounts[field_map.writeback.contact_url][2] == "URL"
    assert accounts[field_map.writeback.last_synced][2] == "Date/Time"
    assert _picklist(accounts[field_map.writeback.status][2]) == [s.value for s in SyncStatus]
    assert f"{field_map.writeback.error_max_length} characters" in accounts[field_map.writeback.error][2]
    frequency = "Invoices_Due_Date_Frequency"
    assert _picklist(accounts[frequency][2]) == list(_lookup_values(field_map, frequency))
    contacts = _documented_fields("### Contacts")
    assert contacts[field_map.primary_contact_field][2] == "Checkbox"
    assert contacts[field_map.include_in_emails_field][2] == "Checkbox"


def test_labels_give_zoho_the_api_names_the_map_expects() -> None:
    # Zoho derives an API name from the label by replacing spaces with underscores.
    for heading in ("### Accounts", "### Contacts"):
        for api_name, row in _documented_fields(heading).items():
            assert row[0].replace(" ", "_") == api_name


def test_the_guide_asks_for_exactly_the_scopes_the_connect_flow_requests() -> None:
    assert ",".join(ZOHO_SCOPES) in GUIDE


def test_every_data_centre_in_the_guide_is_one_the_connect_flow_knows() -> None:
    documented = set(re.findall(r"`(https://accounts\.[a-z.]+)`", GUIDE))
    assert documented == set(ZOHO_DATA_CENTRES)


def test_the_guides_api_hosts_are_the_ones_the_service_accepts() -> None:
    rows = re.findall(r"\| `(https://accounts\.[a-z.]+)` \| ([a-z.]+) \|", GUIDE)
    assert {accounts: f"https://{api}" for accounts, api in rows} == {
        dc.accounts_url: dc.api_domain for dc in DATA_CENTRES
    }


# --- the button's Deluge function -------------------------------------------------------------


def test_the_button_function_has_the_signature_zoho_expects() -> None:
    assert "string button.syncToXero(String accountId)" in DELUGE


def test_the_button_sends_the_headers_the_service_checks() -> None:
    headers = re.findall(r'headers\.put\("([^"]+)"', DELUGE)
    assert headers == [TOKEN_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER]
    # The signature is hex HMAC-SHA256 of timestamp + "." + the exact body text it sends.
    assert 'zoho.encryption.hmacsha256(token, timestamp + "." + body, "hex")' in DELUGE
    assert 'headers.put("X-Webhook-Timestamp", timestamp)' in DELUGE
    # Deluge's unixEpoch() gives milliseconds: 13 digits, which the service reads as such.
    assert ".unixEpoch()" in DELUGE
    assert "parameters:body" in DELUGE


def test_the_button_posts_to_the_webhook_route() -> None:
    path = re.search(r'url :baseUrl \+ "([^"]+)"', DELUGE)
    assert path is not None
    assert "POST" in app.routes[path.group(1)]
    assert "type :POST" in DELUGE


def _deluge_body(account_id: str) -> bytes:
    """What Deluge's Map.toString() makes of the function's payload (compact JSON, in order)."""
    puts = re.findall(r'payload\.put\("([^"]+)", (accountId|"[^"]*")\)', DELUGE)
    payload = {key: account_id if value == "accountId" else json.loads(value) for key, value in puts}
    return json.dumps(payload, separators=(",", ":")).encode()


def test_a_click_as_the_function_sends_it_is_accepted_and_understood() -> None:
    token = "a-webhook-token-for-this-test"
    body = _deluge_body("5725767000000400001")
    clicked_ms = "1800000000000"  # unixEpoch(): milliseconds
    headers = {
        TOKEN_HEADER: token,
        TIMESTAMP_HEADER: clicked_ms,
        SIGNATURE_HEADER: sign(body, token, clicked_ms),
    }

    assert refusal(body, headers, token, now=1_800_000_010) is None
    assert refusal(body, headers, token, now=1_800_000_000 + 301) == STALE  # five minutes later
    request = parse_webhook(body, "application/json")
    assert (request.account_id, request.source) == ("5725767000000400001", "button")
    # The Zoho stand-in's button signs the same way.
    assert stand_in_signature(token, body, clicked_ms) == sign(body, token, clicked_ms)


def _deluge_return_literals() -> set[str]:
    """Every string literal in the script's `return` statements (the texts a person can see)."""
    returns = re.findall(r"^\s*return (.+);$", DELUGE, flags=re.MULTILINE)
    return {literal for line in returns for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', line)}


def test_the_stand_in_button_shows_the_texts_the_deluge_script_shows() -> None:
    assert _deluge_return_literals() == set(BUTTON_TEXTS)


def _deluge_shows(code: int | None, response_text: str | None, error: str = "") -> str:
    """The Deluge script's answer handling, read from the script: each `if` in order, then the last return."""
    if code is None:
        return UNREACHABLE + error + ")"
    try:
        answer = json.loads(response_text or "")
        message = (
            str(answer["message"]) if isinstance(answer, dict) and answer.get("message") is not None else ""
        )
    except ValueError:
        message = ""
    branches = re.findall(r"if\(([^\n]+)\)\s*\{\s*return ([^\n]+);\s*\}", DELUGE)
    scope = {"code": code, "message": message}
    for condition, result in branches:
        test = condition.replace("||", " or ").replace("&&", " and ").replace(".startsWith(", ".startswith(")
        if eval(test, {}, scope):
            return str(eval(result.replace(" + code + ", " + str(code) + "), {}, scope))
    final = re.findall(r"^\s*return (.+);$", DELUGE, flags=re.MULTILINE)[-1]
    return str(eval(final, {}, scope))


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (200, '{"status": "synced", "message": "Synced to Xero (updated)."}'),
        (202, '{"status": "queued", "message": "Sync queued for Acme"}'),
        (422, '{"status": "rejected", "message": "Account Name is empty. Fill it in."}'),
        (422, '{"status": "rejected", "message": "Not synced: already says so"}'),
        (502, '{"status": "failed", "message": "Xero is not connected."}'),
        (503, '{"status": "failed", "message": "Xero is down."}'),
        (401, '{"status": "error", "message": "Missing or wrong webhook token."}'),
        (401, json.dumps({"status": "error", "message": STALE})),
        (500, "<html>gateway error</html>"),
        (413, '{"status": "error"}'),
        (None, None),
    ],
)
def test_the_same_answers_read_the_same_on_the_stand_in_and_in_the_script(
    code: int | None, text: str | None
) -> None:
    error = "ConnectTimeout: timed out"
    assert button_text(code, text, error) == _deluge_shows(code, text, error)


@pytest.mark.parametrize(
    "body",
    [
        '{"account_id": "${Accounts.Account Id}", "source": "workflow"}',
        '{"contact_id": "${Contacts.Contact Id}", "source": "workflow"}',
    ],
)
def test_the_workflow_bodies_in_the_guide_are_valid_webhooks(body: str) -> None:
    assert f"`{body}`" in GUIDE
    filled = re.sub(r"\$\{[^}]+\}", "5725767000000400001", body).encode()
    request = parse_webhook(filled, "application/json")
    assert request.source == "workflow"
    assert f"`{TOKEN_HEADER}`" in GUIDE


def test_a_click_that_came_too_late_tells_the_user_to_click_again_not_to_call_an_administrator() -> None:
    answer = json.dumps({"status": "error", "message": STALE})
    assert button_text(401, answer) == _deluge_shows(401, answer) == STALE
    assert "Click Sync to Xero again." in STALE
