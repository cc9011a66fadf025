"""Endpoint handlers. Each takes (sandbox, call) and runs with the sandbox lock held."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from sandbox.specs.xero_spec import contact_request_violations, history_request_violations
from sandbox.xero.contacts import Outcome, render
from sandbox.xero.idempotency import MAX_KEY_LENGTH, fingerprint
from sandbox.xero.identity import TokenError
from sandbox.xero.listing import list_contacts
from sandbox.xero.where import QueryParseError
from sandbox.xero.wire import JSON_TYPE, api_exception, envelope, is_guid, json_response, ms_date, problem

if TYPE_CHECKING:
    from sandbox.xero.app import Call, XeroSandbox

# Spec violations that Xero reports per element (with its own messages) rather than rejecting
# the whole body; the contract check leaves these to the business rules.
ELEMENT_LEVEL_KEYWORDS = frozenset({"maxLength"})
NO_DATA = (
    "No data has been processed for this endpoint. "
    "This endpoint is expecting Contact data to be specifed in the request body."  # sic (Xero)
)
NOT_FOUND = "The resource you're looking for cannot be found"
API_USER = "System Generated"  # the docs: the user named for changes made through the API
MAX_NOTE_LENGTH = 250  # the docs: "Details ... Max Length 250 characters."
NO_HISTORY = (
    "No data has been processed for this endpoint. "
    "This endpoint is expecting HistoryRecords data to be specifed in the request body."
)

# --- identity -------------------------------------------------------------------------------


def token(sb: XeroSandbox, call: Call) -> Response:
    form = call.request.form.to_dict()
    try:
        sb.identity.authenticate_client(_basic(call), form)
        body = sb.identity.token(form)
    except TokenError as error:
        return _no_store(json_response({"error": error.code}, error.status))
    return _no_store(json_response(body))


def revoke(sb: XeroSandbox, call: Call) -> Response:
    form = call.request.form.to_dict()
    try:
        sb.identity.authenticate_client(_basic(call), form)
    except TokenError as error:
        return json_response({"error": error.code}, error.status)
    sb.identity.revoke(form.get("token", ""))
    return Response(status=200)


def authorize(sb: XeroSandbox, call: Call) -> Response:
    """Consent step. GET shows an "Allow access" page; POST (or `auto_approve=1`) redirects back
    to `redirect_uri` with `code` and `state`, like login.xero.com does after consent."""
    request = call.request
    values = request.form if request.method == "POST" else request.args
    client_id, redirect_uri = values.get("client_id", ""), values.get("redirect_uri", "")
    scope, state = values.get("scope", ""), values.get("state", "")
    if client_id != sb.config.client_id or not redirect_uri:
        return _html(400, "<h1>Invalid request</h1><p>Unknown client_id or missing redirect_uri.</p>")
    if values.get("response_type", "code") != "code":
        return _back(redirect_uri, error="unsupported_response_type", state=state)
    if request.method == "POST" and values.get("decision") != "allow":
        return _back(redirect_uri, error="access_denied", state=state)
    if request.method == "POST" or request.args.get("auto_approve", "").lower() in ("1", "true", "yes"):
        code = sb.identity.issue_code(client_id, redirect_uri, scope)
        return _back(redirect_uri, code=code, scope=scope or sb.config.default_scope, state=state)
    return _html(200, _consent_page(values))


def _consent_page(values: Any) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(values.get(name, ""), quote=True)}">'
        for name in ("response_type", "client_id", "redirect_uri", "scope", "state")
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in values.get("scope", "").split())
    return (
        "<!doctype html><html><head><title>Xero sandbox - authorise app</title></head><body>"
        "<h1>Xero sandbox</h1><p>The app is asking to connect to your organisations with:</p>"
        f"<ul>{scopes}</ul>"
        f'<form method="post" action="/identity/connect/authorize">{hidden}'
        '<button type="submit" name="decision" value="allow">Allow access</button> '
        '<button type="submit" name="decision" value="deny">Cancel</button>'
        "</form></body></html>"
    )


def connections(sb: XeroSandbox, call: Call) -> Response:
    return json_response(sb.identity.list_connections(call.request.args.get("authEventId")))


def delete_connection(sb: XeroSandbox, call: Call) -> Response:
    if sb.identity.delete_connection(call.params["id"]):
        return Response(status=204)
    return problem(404, "Not Found", NOT_FOUND)


# --- accounting -----------------------------------------------------------------------------


def organisation(sb: XeroSandbox, call: Call) -> Response:
    tenant, now = call.tenant, sb.clock.now()
    assert tenant is not None
    org = {
        "OrganisationID": tenant.tenant_id,
        "Name": tenant.name,
        "LegalName": tenant.name,
        "PaysTax": True,
        "Version": tenant.country_code,
        "OrganisationType": "COMPANY",
        "BaseCurrency": tenant.base_currency,
        "CountryCode": tenant.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 30,
        "FinancialYearEndMonth": 6,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_date(now - 365 * 86400, offset=False),
        "OrganisationEntityType": "COMPANY",
        "Timezone": "AUSEASTERNSTANDARDTIME",
        "ShortCode": tenant.short_code,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
    return json_response(envelope(sb.config.provider_name, now, Organisations=[org]))


def get_contacts(sb: XeroSandbox, call: Call) -> Response:
    assert call.tenant is not None
    try:
        collections = list_contacts(
            sb.book(call.tenant.tenant_id), call.request.args, call.request.headers.get("If-Modified-Since")
        )
    except QueryParseError as error:
        return api_exception(16, "QueryParseException", str(error))
    return json_response(envelope(sb.config.provider_name, sb.clock.now(), **collections))


def get_contact(sb: XeroSandbox, call: Call) -> Response:
    """GET /Contacts/{ContactID} or /Contacts/{ContactNumber}: a GUID is an ID, anything else a number."""
    assert call.tenant is not None
    key, book = call.params["key"], sb.book(call.tenant.tenant_id)
    record = book.get(key) if is_guid(key) else book.by_number(key)
    if record is None:
        return problem(404, "Not Found", NOT_FOUND)
    return json_response(envelope(sb.config.provider_name, sb.clock.now(), Contacts=[render(record, "full")]))


def put_contacts(sb: XeroSandbox, call: Call) -> Response:
    return _idempotent(sb, call, lambda: _write(sb, call, create_only=True))


def post_contacts(sb: XeroSandbox, call: Call) -> Response:
    return _idempotent(sb, call, lambda: _write(sb, call, create_only=False))


def post_contact(sb: XeroSandbox, call: Call) -> Response:
    key = call.params["key"]
    if not is_guid(key):
        return problem(404, "Not Found", NOT_FOUND)
    return _idempotent(sb, call, lambda: _write(sb, call, create_only=False, forced_id=key))


# --- history & notes ------------------------------------------------------------------------


def get_history(sb: XeroSandbox, call: Call) -> Response:
    """GET /Contacts/{ContactID}/History: notes and system entries (Created, Edited), newest first."""
    assert call.tenant is not None
    key, book = call.params["key"], sb.book(call.tenant.tenant_id)
    if not is_guid(key) or book.get(key) is None:
        return problem(404, "Not Found", NOT_FOUND)
    records = book.history_of(key)
    return json_response(envelope(sb.config.provider_name, sb.clock.now(), HistoryRecords=records))


def put_history(sb: XeroSandbox, call: Call) -> Response:
    key = call.params["key"]
    assert call.tenant is not None
    if not is_guid(key) or sb.book(call.tenant.tenant_id).get(key) is None:
        return problem(404, "Not Found", NOT_FOUND)
    return _idempotent(sb, call, lambda: _add_notes(sb, call))


def _add_notes(sb: XeroSandbox, call: Call) -> Response:
    """Notes are the only history a client can add; all are checked before any is stored."""
    records, error = _parse_history(call)
    if error is not None:
        return error
    if sb.config.validate_requests:
        violations = history_request_violations({"HistoryRecords": records})
        if violations:
            call.entry["contract_violations"] = [str(v) for v in violations]
            message = (
                "The request does not conform to the Xero OpenAPI contract (sandbox check): "
                + "; ".join(str(v) for v in violations)
            )
            return api_exception(14, "PostDataInvalidException", message)
    failed = []
    for record in records:
        problems = _note_errors(record.get("Details"))
        if problems:
            failed.append({**record, "ValidationErrors": [{"Message": m} for m in problems]})
    if failed:
        return api_exception(10, "ValidationException", "A validation exception occurred", elements=failed)
    assert call.tenant is not None
    book, now = sb.book(call.tenant.tenant_id), sb.clock.now()
    saved = []
    for record in records:
        entry = book.add_history(call.params["key"], "Note", str(record["Details"]), API_USER, now)
        saved.append(
            {
                "DateUTCString": entry["DateUTCString"],
                "DateUTC": entry["DateUTC"],
                "Details": entry["Details"],
                "ValidationErrors": [],
            }
        )
    return json_response(envelope(sb.config.provider_name, now, HistoryRecords=saved))


def _parse_history(call: Call) -> tuple[list[dict[str, Any]], Response | None]:
    if not call.body.strip():
        return [], api_exception(17, "NoDataProcessedException", NO_HISTORY)
    try:
        data = json.loads(call.body)
    except ValueError as exc:
        return [], api_exception(
            14, "PostDataInvalidException", f"JSON request body could not be read, Error: {exc}"
        )
    call.entry["request_body"] = data
    records = data.get("HistoryRecords") if isinstance(data, dict) else None
    if records is None or (isinstance(records, list) and not records):
        return [], api_exception(17, "NoDataProcessedException", NO_HISTORY)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return [], api_exception(
            14, "PostDataInvalidException", "JSON for post data was invalid: expected HistoryRecords."
        )
    return records, None


def _note_errors(details: Any) -> list[str]:
    """Sandbox wording; the rules (a note, at most 250 characters) are the docs'."""
    if not isinstance(details, str) or not details.strip():
        return ["Details is required: the note to record against the contact."]
    if len(details) > MAX_NOTE_LENGTH:
        return [f"Details must not be more than {MAX_NOTE_LENGTH} characters long."]
    return []


def _idempotent(sb: XeroSandbox, call: Call, execute: Any) -> Response:
    """Replay the stored answer for a repeated Idempotency-Key; refuse a key reused elsewhere."""
    key = call.request.headers.get("Idempotency-Key")
    if key is None:
        return execute()
    if len(key) > MAX_KEY_LENGTH:
        return problem(400, "Bad Request", f"Idempotency Key must be {MAX_KEY_LENGTH} characters or less.")
    tenant_id = call.tenant.tenant_id if call.tenant else ""
    print_ = fingerprint(call.request.method, call.request.full_path, tenant_id, call.body)
    stored = sb.idempotency.lookup(key, print_)
    if stored is False:
        return problem(400, "Bad Request", f"Idempotency Key: {key} is used with a different request.")
    if stored:
        call.entry["replayed"] = True
        return Response(stored.body, status=stored.status, content_type=JSON_TYPE)
    response = execute()
    sb.idempotency.store(key, print_, response.status_code, response.get_data())
    return response


def _write(sb: XeroSandbox, call: Call, *, create_only: bool, forced_id: str | None = None) -> Response:
    elements, error = _parse_contacts(call)
    if error is not None:
        return error
    if sb.config.validate_requests:
        rejected = _contract_check(call, elements)
        if rejected is not None:
            return rejected
    assert call.tenant is not None
    book, now = sb.book(call.tenant.tenant_id), sb.clock.now()
    if forced_id and book.get(forced_id) is None:
        return problem(404, "Not Found", NOT_FOUND)
    outcomes = [book.save(e, create_only=create_only, now=now, forced_id=forced_id) for e in elements]
    for outcome in outcomes:
        if outcome.ok:  # like Xero: our own writes raise webhook events too
            sb._contact_saved(call.tenant.tenant_id, outcome, API_USER)
    summarize = call.request.args.get("summarizeErrors", "").strip().lower() != "false"
    return _batch_response(sb, outcomes, summarize)


def _parse_contacts(call: Call) -> tuple[list[dict[str, Any]], Response | None]:
    """`{"Contacts": [...]}` or one bare contact object."""
    if not call.body.strip():
        return [], api_exception(17, "NoDataProcessedException", NO_DATA)
    try:
        data = json.loads(call.body)
    except ValueError as exc:
        return [], api_exception(
            14, "PostDataInvalidException", f"JSON request body could not be read, Error: {exc}"
        )
    call.entry["request_body"] = data
    items = data.get("Contacts") if isinstance(data, dict) and "Contacts" in data else data
    if isinstance(items, dict):
        items = [items] if items else []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return [], api_exception(
            14, "PostDataInvalidException", "JSON for post data was invalid: expected Contacts."
        )
    if not items:
        return [], api_exception(17, "NoDataProcessedException", NO_DATA)
    return items, None


def _contract_check(call: Call, elements: list[dict[str, Any]]) -> Response | None:
    """validate_requests: every write doubles as a contract test against the OpenAPI spec."""
    violations = contact_request_violations({"Contacts": elements})
    if violations:
        call.entry["contract_violations"] = [str(v) for v in violations]
    fatal = [str(v) for v in violations if v.keyword not in ELEMENT_LEVEL_KEYWORDS]
    if not fatal:
        return None
    message = "The request does not conform to the Xero OpenAPI contract (sandbox check): " + "; ".join(fatal)
    return api_exception(14, "PostDataInvalidException", message)


def _batch_response(sb: XeroSandbox, outcomes: list[Outcome], summarize: bool) -> Response:
    """summarizeErrors=false: 200 with a verdict per element. Otherwise one failure makes it a 400
    listing only the failures - while the valid elements have been saved all the same."""
    if not summarize:
        contacts = [_with_status(o) for o in outcomes]
        return json_response(envelope(sb.config.provider_name, sb.clock.now(), Contacts=contacts))
    failed = [_with_errors(o) for o in outcomes if not o.ok]
    if failed:
        return api_exception(10, "ValidationException", "A validation exception occurred", elements=failed)
    return json_response(
        envelope(sb.config.provider_name, sb.clock.now(), Contacts=[o.contact for o in outcomes])
    )


def _with_errors(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.contact, "ValidationErrors": [{"Message": m} for m in outcome.errors]}


def _with_status(outcome: Outcome) -> dict[str, Any]:
    if outcome.ok:
        return {**outcome.contact, "StatusAttributeString": "OK"}
    return {**_with_errors(outcome), "StatusAttributeString": "ERROR"}


# --- helpers --------------------------------------------------------------------------------


def _basic(call: Call) -> tuple[str, str] | None:
    auth = call.request.authorization
    if auth is None or auth.type != "basic":
        return None
    return auth.username or "", auth.password or ""


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _html(status: int, body: str) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _back(redirect_uri: str, **params: str) -> Response:
    query = urlencode({k: v for k, v in params.items() if v})
    return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}", 302)
