"""The CRM REST endpoints: records, related records, updates, COQL and field metadata."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from sandbox.specs import zoho_spec

from . import coql
from .errors import ZohoError, error_body, invalid_module, invalid_param, param_missing
from .limits import update_credits
from .metadata import (
    API_USER_ID,
    MODULE_IDS,
    MODULES,
    field_metadata,
    module_metadata,
    related_list_metadata,
    user_ref,
)
from .timefmt import format_datetime, parse_datetime
from .validation import FieldError, check_value
from .web import Call, empty_response, json_response, read_json

if TYPE_CHECKING:
    from .app import ZohoSandbox

MAX_FIELDS = 50
MAX_PER_PAGE = 200
PAGE_PARAM_LIMIT = 2000  # records reachable with page/per_page; beyond it needs page_token
PAGE_TOKEN_LIMIT = 100_000
PAGE_TOKEN_TTL = 86400
MAX_UPDATE_RECORDS = 100
SORTABLE = ("id", "Created_Time", "Modified_Time")


def _module(name: str) -> str:
    if name not in MODULES:
        raise invalid_module(resource_path_index=0)
    return name


def _fields_param(call: Call, module: str, required: bool) -> list[str] | None:
    raw = call.request.args.get("fields")
    if raw is None or not raw.strip():
        if required:
            raise param_missing("fields")
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if len(names) > MAX_FIELDS:
        raise ZohoError(
            400, "LIMIT_EXCEEDED", "Max field limit exceeded", {"param_name": "fields", "limit": MAX_FIELDS}
        )
    for name in names:
        if name not in MODULES[module]:
            # Asking for a field the module lacks is a bug in the caller; answer it loudly.
            raise invalid_param("fields", api_name=name)
    return names


def _if_modified_since(call: Call) -> float | None:
    raw = call.request.headers.get("If-Modified-Since")
    if raw is None:
        return None
    parsed = parse_datetime(raw.strip())
    if parsed is None:
        raise ZohoError(400, "INVALID_DATA", "invalid data", {"header_name": "If-Modified-Since"})
    return parsed.timestamp()


# ---- routing by method ------------------------------------------------------------------


def records(sb: ZohoSandbox, call: Call, module: str) -> Response:
    if call.request.method == "PUT":
        return update_records(sb, call, module)
    if call.request.method == "POST":
        return create_records(sb, call, module)
    return list_records(sb, call, module)


def record(sb: ZohoSandbox, call: Call, module: str, record_id: str) -> Response:
    if call.request.method == "PUT":
        return update_records(sb, call, module, record_id)
    if call.request.method == "DELETE":
        from .deleted import delete_record

        return delete_record(sb, call, module, record_id)
    return get_record(sb, call, module, record_id)


# ---- single record ----------------------------------------------------------------------


def get_record(sb: ZohoSandbox, call: Call, module: str, record_id: str) -> Response:
    module = _module(module)
    fields = _fields_param(call, module, required=False)
    since = _if_modified_since(call)
    with sb.lock:
        record = sb.store.get(module, record_id)
        if record is None:
            if sb.config.unknown_record_answer == "no_content":
                return empty_response(204)
            raise ZohoError(
                400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1}
            )
        if since is not None and record["Modified_Time"] <= since:
            return empty_response(304)
        return json_response(200, {"data": [sb.store.render(module, record, fields)]})


# ---- lists and pagination ---------------------------------------------------------------


def _int_param(call: Call, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = call.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, expected_data_type="integer") from None
    if value < low or (high is not None and value > high):
        raise invalid_param(name, **({"maximum_value": high} if high is not None else {}))
    return value


def _window(sb: ZohoSandbox, call: Call, scope: dict[str, Any]) -> tuple[int, int]:
    """(offset, per_page) from page/per_page or a page_token bound to the same request."""
    per_page = _int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    token = call.request.args.get("page_token")
    if token is None:
        page = _int_param(call, "page", 1, 1)
        if page * per_page > PAGE_PARAM_LIMIT:
            raise ZohoError(
                400,
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                "cannot fetch more than 2000 records with the page param, use page_token",
                {"param_name": "page", "limit": PAGE_PARAM_LIMIT},
            )
        return (page - 1) * per_page, per_page
    if "page" in call.request.args:
        raise invalid_param("page", reason="page and page_token cannot be used together")
    with sb.lock:
        saved = sb.page_tokens.get(token)
    if saved is None or saved["expires"] < sb.clock.now() or saved["scope"] != scope:
        raise invalid_param("page_token", reason="the page_token is invalid, expired or for another request")
    if saved["offset"] >= PAGE_TOKEN_LIMIT:
        raise ZohoError(
            400,
            "PAGINATION_LIMIT_EXCEEDED",
            "cannot fetch more than 100000 records",
            {"limit": PAGE_TOKEN_LIMIT},
        )
    return saved["offset"], per_page


MAX_PAGE_TOKENS = 10_000


def _page_token(sb: ZohoSandbox, scope: dict[str, Any], offset: int, expires: float) -> str:
    if len(sb.page_tokens) >= MAX_PAGE_TOKENS:  # long benchmark runs: forget expired tokens
        now = sb.clock.now()
        for stale in [key for key, saved in sb.page_tokens.items() if saved["expires"] < now]:
            del sb.page_tokens[stale]
    token = secrets.token_hex(24)
    sb.page_tokens[token] = {"scope": scope, "offset": offset, "expires": expires}
    return token


def _paged(
    sb: ZohoSandbox, call: Call, module: str, rows: list[dict[str, Any]], scope: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    offset, per_page = _window(sb, call, scope)
    page = rows[offset : offset + per_page]
    more = len(rows) > offset + per_page
    info: dict[str, Any] = {
        "per_page": per_page,
        "count": len(page),
        "page": offset // per_page + 1,
        "more_records": more,
    }
    now = sb.clock.now()
    expires = now + PAGE_TOKEN_TTL
    if more:
        info["next_page_token"] = _page_token(sb, scope, offset + per_page, expires)
    if offset > 0:
        info["previous_page_token"] = _page_token(sb, scope, max(0, offset - per_page), expires)
    if more or offset > 0:
        info["page_token_expiry"] = format_datetime(expires, sb.config.utc_offset_minutes)
    return page, info


def list_records(sb: ZohoSandbox, call: Call, module: str) -> Response:
    module = _module(module)
    fields = _fields_param(call, module, required=True)
    sort_by = call.request.args.get("sort_by", "id")
    sort_order = call.request.args.get("sort_order", "desc")
    if sort_by not in SORTABLE:
        raise invalid_param("sort_by", supported_values=list(SORTABLE))
    if sort_order not in ("asc", "desc"):
        raise invalid_param("sort_order", supported_values=["asc", "desc"])
    since = _if_modified_since(call)
    scope = {"module": module, "fields": fields, "sort": [sort_by, sort_order], "since": since}
    with sb.lock:
        rows = [r for r in sb.store.all(module) if since is None or r["Modified_Time"] > since]
        rows.sort(key=lambda r: (r[sort_by], int(r["id"])) if sort_by != "id" else int(r["id"]))
        if sort_order == "desc":
            rows.reverse()
        if not rows:
            return empty_response(304 if since is not None else 204)
        page, info = _paged(sb, call, module, rows, scope)
        data = [sb.store.render(module, record, fields) for record in page]
    info.update(sort_by=sort_by, sort_order=sort_order)
    return json_response(200, {"data": data, "info": info})


def related_records(sb: ZohoSandbox, call: Call, module: str, record_id: str, related: str) -> Response:
    module = _module(module)
    if module != "Accounts" or related != "Contacts":
        raise ZohoError(
            400, "INVALID_DATA", "The relation name given seems to be invalid", {"resource_path_index": 2}
        )
    fields = _fields_param(call, "Contacts", required=True)
    since = _if_modified_since(call)
    scope = {"parent": record_id, "related": related, "fields": fields, "since": since}
    with sb.lock:
        if not sb.store.exists(module, record_id):
            raise ZohoError(
                400, "INVALID_DATA", "the related id given seems to be invalid", {"resource_path_index": 1}
            )
        rows = [sb.store.get("Contacts", cid) for cid in sb.store.contact_ids_of(record_id)]
        rows = [r for r in rows if r is not None and (since is None or r["Modified_Time"] > since)]
        if not rows:
            return empty_response(304 if since is not None else 204)
        page, info = _paged(sb, call, "Contacts", rows, scope)
        data = [sb.store.render("Contacts", record, fields) for record in page]
    return json_response(200, {"data": data, "info": info})


# ---- updates ----------------------------------------------------------------------------


def _violation_error(violation: str) -> ZohoError:
    """A spec violation ("$.trigger[0]: ...") answered as Zoho's INVALID_DATA."""
    json_path = violation.split(":", 1)[0].strip()
    names = [
        part for part in json_path.replace("[", ".[").split(".") if part and not part.startswith(("$", "["))
    ]
    return ZohoError(
        400,
        "INVALID_DATA",
        "invalid data",
        {"api_name": names[-1] if names else "body", "json_path": json_path, "reason": violation},
    )


def _update_body(sb: ZohoSandbox, call: Call, path: str, method: str = "PUT") -> dict[str, Any]:
    body, ok = read_json(call.request)
    call.log["request_body"] = body
    if not ok or not isinstance(body, dict):
        raise ZohoError(400, "INVALID_DATA", "invalid data", {"reason": "the body must be a JSON object"})
    if sb.config.validate_requests:
        # Zoho (and its SDK) take numeric record ids although the spec says string.
        violations = zoho_spec.request_errors(method, path, body, allow_numeric_ids=True)
        call.violations(violations)
        if violations:
            raise _violation_error(violations[0])
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise ZohoError(
            400,
            "MANDATORY_NOT_FOUND",
            "required field not found",
            {"api_name": "data", "json_path": "$.data"},
        )
    if len(data) > MAX_UPDATE_RECORDS:
        raise ZohoError(
            400,
            "LIMIT_EXCEEDED",
            "Record count exceeded",
            {"limit": MAX_UPDATE_RECORDS, "api_name": "data", "json_path": "$.data"},
        )
    return body


def _workflows_requested(body: dict[str, Any]) -> bool:
    """Zoho runs workflows on API writes unless `trigger` is given without "workflow"."""
    trigger = body.get("trigger")
    return trigger is None or (isinstance(trigger, list) and "workflow" in trigger)


WriteOne = Callable[[int, Any, float], tuple[dict[str, Any], "dict[str, Any] | None"]]


def _write_each(
    sb: ZohoSandbox, call: Call, module: str, body: dict[str, Any], write_one: WriteOne
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Insert or update each record of `body["data"]` on its own, as Zoho does (one answer each),
    then run the workflow rules of the records written (unless `trigger` leaves them out).
    Returns (every answer, the failed ones)."""
    data = body["data"]
    call.credits = update_credits(len(data))
    results, written = [], []
    with sb.lock:
        now = sb.clock.now()
        for index, item in enumerate(data):
            result, record = write_one(index, item, now)
            results.append(result)
            if record is not None:
                written.append(record)
        fire = [sb.workflow_payload(module, r) for r in written] if _workflows_requested(body) else []
    for payload in fire:
        if payload is not None:
            sb.automation.workflow(payload)
    failures = [r for r in results if r["status"] != "success"]
    if failures:
        call.log["record_errors"] = failures
    return results, failures


def update_records(sb: ZohoSandbox, call: Call, module: str, record_id: str | None = None) -> Response:
    module = _module(module)
    path = f"/crm/v8/{module}" + (f"/{record_id}" if record_id else "")
    body = _update_body(sb, call, path)
    results, failures = _write_each(
        sb,
        call,
        module,
        body,
        lambda index, item, now: _update_one(sb, call, module, index, item, record_id, now),
    )
    successes = len(results) - len(failures)
    status = 200 if successes == len(results) else (400 if successes == 0 else 207)
    return json_response(status, {"data": results})


def _update_one(
    sb: ZohoSandbox, call: Call, module: str, index: int, item: Any, url_id: str | None, now: float
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    path = f"$.data[{index}]"
    if not isinstance(item, dict):
        return error_body(
            "INVALID_DATA", "invalid data", {"json_path": path, "expected_data_type": "jsonobject"}
        ), None
    record_id = url_id or item.get("id")
    if record_id is None:
        return error_body(
            "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "id", "json_path": f"{path}.id"}
        ), None
    record = sb.store.get(module, str(record_id))
    if record is None:
        details = (
            {"api_name": "id", "json_path": f"{path}.id"} if url_id is None else {"resource_path_index": 1}
        )
        return error_body("INVALID_DATA", "the id given seems to be invalid", details), None
    try:
        values = _checked_values(sb, call, module, item, path)
        _check_unique(sb, module, values, path, record["id"])
    except FieldError as exc:
        return exc.body, None
    sb.store.update(module, record["id"], values, now, API_USER_ID)
    return _success(sb, record), record


# ---- inserts ----------------------------------------------------------------------------


def create_records(sb: ZohoSandbox, call: Call, module: str) -> Response:
    """POST /crm/v8/{module}: up to 100 records, each answered on its own (201 all created, 207
    some, 400 none), mandatory fields and "no duplicates" fields checked like Zoho does."""
    module = _module(module)
    body = _update_body(sb, call, f"/crm/v8/{module}", "POST")
    results, failures = _write_each(
        sb, call, module, body, lambda index, item, now: _create_one(sb, call, module, index, item, now)
    )
    status = 201 if not failures else (400 if len(failures) == len(results) else 207)
    return json_response(status, {"data": results})


def _create_one(
    sb: ZohoSandbox, call: Call, module: str, index: int, item: Any, now: float
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    path = f"$.data[{index}]"
    if not isinstance(item, dict):
        return error_body(
            "INVALID_DATA", "invalid data", {"json_path": path, "expected_data_type": "jsonobject"}
        ), None
    try:
        values = _checked_values(sb, call, module, {k: v for k, v in item.items() if k != "id"}, path)
        for name, field in MODULES[module].items():
            if field.mandatory and not field.is_lookup and values.get(name) in (None, ""):
                raise FieldError(
                    error_body(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        {"api_name": name, "json_path": f"{path}.{name}"},
                    )
                )
        _check_unique(sb, module, values, path, None)
    except FieldError as exc:
        return exc.body, None
    record = sb.store.insert(module, values, now, API_USER_ID)
    result = _success(sb, record)
    result["message"] = "record added"
    return result, record


def _check_unique(
    sb: ZohoSandbox, module: str, values: dict[str, Any], path: str, own_id: str | None
) -> None:
    """DUPLICATE_DATA when a "no duplicates" field repeats another record's value."""
    for name in (sb.config.unique_fields or {}).get(module, []):
        value = values.get(name)
        if value in (None, ""):
            continue
        other = next((r for r in sb.store.all(module) if r.get(name) == value and r["id"] != own_id), None)
        if other is not None:
            raise FieldError(
                error_body(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    {
                        "api_name": name,
                        "json_path": f"{path}.{name}",
                        "duplicate_record": {
                            "module": {"api_name": module, "id": MODULE_IDS[module]},
                            "id": other["id"],
                            "Owner": user_ref(other["Owner"]),
                        },
                        "more_records": False,
                    },
                )
            )


def _checked_values(
    sb: ZohoSandbox, call: Call, module: str, item: dict[str, Any], path: str
) -> dict[str, Any]:
    values = {}
    for name, value in item.items():
        if name == "id":
            continue
        field = MODULES[module].get(name)
        if field is None or field.read_only or name.startswith("$"):
            # Zoho ignores keys it cannot write; the call log says so, since it hides typos.
            call.note(f"{path}.{name} ignored ({'read-only' if field else 'unknown field'})")
            continue
        values[name] = check_value(field, value, f"{path}.{name}", sb.store.exists)
    return values


def _success(sb: ZohoSandbox, record: dict[str, Any]) -> dict[str, Any]:
    offset = sb.config.utc_offset_minutes
    return {
        "code": "SUCCESS",
        "details": {
            "Modified_Time": format_datetime(record["Modified_Time"], offset),
            "Modified_By": _minified(record["Modified_By"]),
            "Created_Time": format_datetime(record["Created_Time"], offset),
            "id": record["id"],
            "Created_By": _minified(record["Created_By"]),
        },
        "message": "record updated",
        "status": "success",
    }


def _minified(user_id: str) -> dict[str, str]:
    ref = user_ref(user_id)
    return {"name": ref["name"], "id": ref["id"]}


# ---- COQL -------------------------------------------------------------------------------


def run_coql(sb: ZohoSandbox, call: Call) -> Response:
    body, ok = read_json(call.request)
    call.log["request_body"] = body
    if sb.config.validate_requests:
        violations = zoho_spec.request_errors("POST", "/crm/v8/coql", body if ok else call.request.get_data())
        call.violations(violations)
        if violations:
            raise ZohoError(400, "INVALID_QUERY", "invalid query formed", {"reason": violations[0]})
    query = body.get("select_query") if isinstance(body, dict) else None
    if not isinstance(query, str):
        raise ZohoError(400, "INVALID_QUERY", "invalid query formed", {"reason": "select_query is required"})
    config = sb.config
    try:
        with sb.lock:
            result = coql.run(
                query,
                sb.store,
                config.coql_strict_grouping,
                config.coql_max_in_values,
                config.coql_max_select_fields,
            )
    except coql.CoqlError as exc:
        raise ZohoError(400, exc.code, exc.message, exc.details) from None
    call.credits = coql.credits_for(result.limit)
    if not result.rows:
        return empty_response(204)
    info = {"count": len(result.rows), "more_records": result.more_records}
    return json_response(200, {"data": result.rows, "info": info})


# ---- metadata ---------------------------------------------------------------------------


def _module_param(call: Call) -> str:
    name = call.request.args.get("module")
    if not name:
        raise param_missing("module")
    match = next((m for m in MODULES if m.lower() == name.lower()), None)
    if match is None:
        raise invalid_module(param_name="module")
    return match


def fields(sb: ZohoSandbox, call: Call) -> Response:
    return json_response(200, {"fields": field_metadata(_module_param(call))})


def related_lists(sb: ZohoSandbox, call: Call) -> Response:
    return json_response(200, {"related_lists": related_list_metadata(_module_param(call))})


def modules(sb: ZohoSandbox, call: Call) -> Response:
    return json_response(200, {"modules": module_metadata()})


# ---- Zoho Accounts (OAuth) --------------------------------------------------------------


def _base_url(call: Call) -> str:
    return call.request.host_url.rstrip("/")


def oauth_token(sb: ZohoSandbox, call: Call) -> Response:
    params = {**call.request.args.to_dict(), **call.request.form.to_dict()}
    call.log["grant_type"] = params.get("grant_type")
    with sb.lock:
        answer = sb.oauth.token(params, sb.clock.now(), _base_url(call))
    if "error" in answer:
        call.log["error"] = answer
    # Zoho Accounts answers most token errors with HTTP 200; the rate-limit block is a 400.
    return json_response(400 if answer.get("error") == "Access Denied" else 200, answer)


def oauth_revoke(sb: ZohoSandbox, call: Call) -> Response:
    token = call.request.args.get("token") or call.request.form.get("token") or ""
    with sb.lock:
        return json_response(200, sb.oauth.revoke(token))


def oauth_auth(sb: ZohoSandbox, call: Call) -> Response:
    if call.request.method == "GET":
        status, page = sb.oauth.consent_page(call.request.args.to_dict())
        return Response(page, status=status, content_type="text/html; charset=utf-8")
    with sb.lock:
        location = sb.oauth.decide(call.request.form.to_dict(), sb.clock.now(), _base_url(call))
    return Response(status=302, headers={"Location": location})
