"""The admin interface under /__sandbox__/ (JSON, no auth): arrange state, play a CRM user,
press the button, inject faults, read the call log. Also the "as a user" writes behind
`ZohoSandbox.create/edit`, which skip the API's write checks (the UI and imports can hold data
the API would refuse, and tests need to arrange such data).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.common import Fault

from .metadata import CRM_USER_ID, MODULES, USERS
from .timefmt import format_datetime, parse_datetime
from .validation import lookup_id
from .web import json_response, read_json

if TYPE_CHECKING:
    from .app import ZohoSandbox

PREFIX = "/__sandbox__"
RULES = Map(
    [
        Rule(f"{PREFIX}/", endpoint="index", methods=["GET"]),
        Rule(f"{PREFIX}/state", endpoint="state", methods=["GET"]),
        Rule(f"{PREFIX}/reset", endpoint="reset", methods=["POST"]),
        Rule(f"{PREFIX}/calls", endpoint="calls", methods=["GET", "DELETE"]),
        Rule(f"{PREFIX}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule(f"{PREFIX}/clock", endpoint="clock", methods=["GET", "POST"]),
        Rule(f"{PREFIX}/config", endpoint="config", methods=["GET", "POST"]),
        Rule(f"{PREFIX}/tokens", endpoint="tokens", methods=["POST"]),
        Rule(f"{PREFIX}/records/<module>", endpoint="records", methods=["GET", "POST"]),
        Rule(f"{PREFIX}/records/<module>/<record_id>", endpoint="record", methods=["GET", "PATCH", "DELETE"]),
        Rule(f"{PREFIX}/generate", endpoint="generate", methods=["POST"]),
        Rule(f"{PREFIX}/button/<account_id>", endpoint="button", methods=["POST"]),
        Rule(f"{PREFIX}/webhooks", endpoint="webhooks", methods=["GET", "DELETE"]),
    ],
    strict_slashes=False,
)


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle(sb: ZohoSandbox, request: Request) -> Response:
    try:
        endpoint, args = RULES.bind_to_environ(request.environ).match()
        return HANDLERS[str(endpoint)](sb, request, **args)
    except AdminError as exc:
        return json_response(exc.status, {"error": exc.message})
    except HTTPException as exc:
        return json_response(exc.code or 400, {"error": exc.description})
    except KeyError as exc:
        return json_response(404, {"error": f"not found: {exc.args[0]}"})
    except ValueError as exc:
        return json_response(400, {"error": str(exc)})


def _body(request: Request) -> dict[str, Any]:
    body, ok = read_json(request)
    if not ok or not isinstance(body, dict | type(None)):
        raise AdminError(400, "the body must be a JSON object")
    return body or {}


# ---- user writes ------------------------------------------------------------------------


def user_write(
    sb: ZohoSandbox, module: str, record_id: str | None, fields: dict[str, Any], automation: bool
) -> dict[str, Any]:
    with sb.lock:
        values = _user_values(sb, module, fields)
        now = sb.clock.now()
        if record_id is None:
            if values.get("id") and sb.store.exists(module, values["id"]):
                raise ValueError(f"{module} {values['id']} already exists")
            record = sb.store.insert(module, values, now, CRM_USER_ID)
        else:
            if not sb.store.exists(module, record_id):
                raise KeyError(f"{module}/{record_id}")
            explicit = values.pop("Modified_Time", None)  # tests may set it to arrange history
            values.pop("id", None)
            record = sb.store.update(module, record_id, values, now, CRM_USER_ID)
            if explicit is not None:
                record["Modified_Time"] = explicit
        payload = sb.workflow_payload(module, record) if automation else None
        rendered = sb.store.render(module, record)
    if payload is not None:
        sb.automation.workflow(payload)
    return rendered


def _user_values(sb: ZohoSandbox, module: str, fields: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name, value in fields.items():
        key = "Account_Name" if (module == "Contacts" and name == "Account_Id") else name
        field = MODULES[module].get(key)
        if field is None:
            raise ValueError(f"unknown field {name!r} in {module}")
        values[key] = _user_value(sb, module, key, value)
    return values


def _user_value(sb: ZohoSandbox, module: str, name: str, value: Any) -> Any:
    field = MODULES[module][name]
    if value is None:
        return None
    if field.data_type == "datetime":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"{name}: {value!r} is not a DateTime like 2026-11-25T18:00:00+00:00")
        return int(parsed.timestamp())
    if field.data_type == "ownerlookup":
        target = lookup_id(value)
        if target not in USERS:
            raise ValueError(f"{name}: unknown user {target!r}")
        return target
    if field.data_type == "lookup":
        target = str(lookup_id(value))
        if not sb.store.exists(field.lookup_module or "", target):
            raise ValueError(f"{name}: no {field.lookup_module} record {target}")
        return target
    return value


# ---- handlers ---------------------------------------------------------------------------


def _index(sb: ZohoSandbox, request: Request) -> Response:
    return json_response(200, {"endpoints": [rule.rule for rule in RULES.iter_rules()]})


def _state(sb: ZohoSandbox, request: Request) -> Response:
    return json_response(200, sb.state())


def _reset(sb: ZohoSandbox, request: Request) -> Response:
    seed = _body(request).get("seed")
    sb.reset(seed if isinstance(seed, bool) else None)
    return json_response(200, sb.state())


def _calls(sb: ZohoSandbox, request: Request) -> Response:
    if request.method == "DELETE":
        sb.clear_calls()
        return json_response(200, {"calls": [], "counts": {}})
    return json_response(200, {"calls": sb.calls(), "counts": sb.call_counts()})


def _faults(sb: ZohoSandbox, request: Request) -> Response:
    if request.method == "DELETE":
        sb.faults.clear()
    elif request.method == "POST":
        body, _ = read_json(request)
        for spec in body if isinstance(body, list) else [body]:
            sb.faults.add(_fault(spec))
    return json_response(200, {"faults": sb.faults.pending()})


def _fault(spec: Any) -> Fault:
    if not isinstance(spec, dict):
        raise AdminError(400, "a fault is a JSON object")
    known = {f.name for f in dataclasses.fields(Fault)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise AdminError(400, f"unknown fault fields {unknown}; known: {sorted(known)}")
    return Fault(**spec)


def _clock(sb: ZohoSandbox, request: Request) -> Response:
    if request.method == "POST":
        advance = _body(request).get("advance", 0)
        if isinstance(advance, bool) or not isinstance(advance, int | float):
            raise AdminError(400, "advance must be a number of seconds")
        sb.clock.advance(advance)
    now = sb.clock.now()
    return json_response(200, {"now": format_datetime(now, sb.config.utc_offset_minutes), "epoch": now})


def _config(sb: ZohoSandbox, request: Request) -> Response:
    if request.method == "POST":
        sb.configure(**_body(request))
    return json_response(200, sb.config.to_dict())


def _tokens(sb: ZohoSandbox, request: Request) -> Response:
    token = sb.access_token(request.host_url.rstrip("/"))
    return json_response(200, {"access_token": token, "expires_in": sb.config.access_token_ttl})


def _records(sb: ZohoSandbox, request: Request, module: str) -> Response:
    if request.method == "POST":
        automation = request.args.get("automation", "true") != "false"
        return json_response(201, sb.create(module, _body(request), automation))
    return json_response(200, {"data": sb.records(module)})


def _record(sb: ZohoSandbox, request: Request, module: str, record_id: str) -> Response:
    if request.method == "DELETE":
        if not sb.delete(module, record_id, permanent=request.args.get("permanent") == "true"):
            raise KeyError(f"{module}/{record_id}")
        return json_response(200, {"deleted": record_id})
    if request.method == "PATCH":
        automation = request.args.get("automation", "true") != "false"
        return json_response(200, sb.edit(module, record_id, _body(request), automation))
    record = sb.get(module, record_id)
    if record is None:
        raise KeyError(f"{module}/{record_id}")
    return json_response(200, record)


def _generate(sb: ZohoSandbox, request: Request) -> Response:
    body = _body(request)
    count, seed = body.get("accounts", 100), body.get("seed", 1)
    if not isinstance(count, int) or not isinstance(seed, int) or count < 0:
        raise AdminError(400, "accounts and seed must be non-negative integers")
    return json_response(200, sb.generate(count, seed))


def _button(sb: ZohoSandbox, request: Request, account_id: str) -> Response:
    if not sb.config.webhook_url:
        raise AdminError(409, "no webhook_url configured (POST /__sandbox__/config)")
    return json_response(200, sb.click_button(account_id))


def _webhooks(sb: ZohoSandbox, request: Request) -> Response:
    if request.method == "DELETE":
        sb.automation.clear()
    return json_response(200, {"deliveries": sb.webhook_deliveries()})


HANDLERS = {
    "index": _index,
    "state": _state,
    "reset": _reset,
    "calls": _calls,
    "faults": _faults,
    "clock": _clock,
    "config": _config,
    "tokens": _tokens,
    "records": _records,
    "record": _record,
    "generate": _generate,
    "button": _button,
    "webhooks": _webhooks,
}
