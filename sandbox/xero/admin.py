"""Admin interface under /__sandbox__/ (JSON, no auth): arrange state, read the call log.

Mirrors the Python API of XeroSandbox; see README.md for the endpoint list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.xero.wire import json_response

if TYPE_CHECKING:
    from sandbox.xero.app import XeroSandbox

Handler = Callable[["XeroSandbox", Request, Any], Any]


class AdminError(ValueError):
    pass


def handle_admin(sb: XeroSandbox, request: Request) -> Response:
    name = request.path.removeprefix("/__sandbox__/").strip("/")
    if request.method == "POST" and (name == "user/contacts" or name.startswith("user/contacts/")):
        return _user_contact(sb, request, name.removeprefix("user/contacts").strip("/") or None)
    handler = ADMIN_ROUTES.get((request.method, name))
    if handler is None:
        known = sorted(f"{m} /__sandbox__/{n}" for m, n in ADMIN_ROUTES)
        return json_response(
            {"error": f"no admin endpoint {request.method} {request.path}", "endpoints": known}, 404
        )
    try:
        body = json.loads(request.get_data() or b"null")
        result = handler(sb, request, body)
    except (ValueError, TypeError, KeyError) as error:  # bad JSON, bad fields, unknown tenant
        return json_response({"error": str(error)}, 400)
    return json_response(result)


def _state(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return sb.state()


def _reset(sb: XeroSandbox, request: Request, body: Any) -> Any:
    body = body or {}
    seed = body.get("seed")
    sb.reset(seed=None if seed is None else bool(seed), keep_config=bool(body.get("keep_config")))
    return sb.state()


def _calls(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return {"calls": sb.calls(), "counts": sb.call_counts()}


def _clear_calls(sb: XeroSandbox, request: Request, body: Any) -> Any:
    sb.clear_calls()
    return {"calls": [], "counts": {}}


def _faults(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return {"faults": sb.faults.pending()}


def _add_faults(sb: XeroSandbox, request: Request, body: Any) -> Any:
    for spec in body if isinstance(body, list) else [body or {}]:
        sb.add_fault(**spec)  # unknown fields raise TypeError -> 400
    return {"faults": sb.faults.pending()}


def _clear_faults(sb: XeroSandbox, request: Request, body: Any) -> Any:
    sb.faults.clear()
    return {"faults": []}


def _clock(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return {"now": sb.clock.now()}


def _advance_clock(sb: XeroSandbox, request: Request, body: Any) -> Any:
    sb.clock.advance(float((body or {}).get("advance", 0)))
    return {"now": sb.clock.now()}


def _config(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return sb.config.to_dict()


def _update_config(sb: XeroSandbox, request: Request, body: Any) -> Any:
    sb.configure(**(body or {}))
    return sb.config.to_dict()


def _contacts(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return {"Contacts": sb.contacts(request.args.get("tenant"))}


def _put_contacts(sb: XeroSandbox, request: Request, body: Any) -> Any:
    items = body.get("Contacts", [body]) if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise AdminError("expected a contact, a list of contacts or {'Contacts': [...]}")
    tenant = request.args.get("tenant")
    return {"Contacts": [sb.put_contact(item, tenant) for item in items]}


def _generate(sb: XeroSandbox, request: Request, body: Any) -> Any:
    body = body or {}
    made = sb.generate_contacts(int(body.get("n", 100)), int(body.get("seed", 0)), request.args.get("tenant"))
    return {"generated": len(made)}


def _tokens(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return {
        "refresh_token": sb.mint_refresh_token((body or {}).get("scope")),
        "client_id": sb.config.client_id,
        "client_secret": sb.config.client_secret,
        "tenant_id": sb.tenant_id,
    }


def _webhooks(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return sb.webhook_state()


def _enable_webhooks(sb: XeroSandbox, request: Request, body: Any) -> Any:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("url"), str)
        or not isinstance(body.get("key"), str)
    ):
        raise AdminError('expected {"url": "https://…/webhooks/xero", "key": "<webhook key>"}')
    return sb.enable_webhooks(body["url"], body["key"])


def _disable_webhooks(sb: XeroSandbox, request: Request, body: Any) -> Any:
    return sb.disable_webhooks()


def _deliver_webhooks(sb: XeroSandbox, request: Request, body: Any) -> Any:
    attempts = sb.deliver_webhooks(retries=bool((body or {}).get("retries")))
    return {"attempts": attempts, **sb.webhooks.state(with_log=False)}


def _user_contact(sb: XeroSandbox, request: Request, contact_id: str | None) -> Response:
    """POST user/contacts (create) and user/contacts/{ContactID} (edit), as a person in Xero's UI."""
    from sandbox.xero.app import ContactNotFound, ContactRejected

    try:
        fields = json.loads(request.get_data() or b"null")
    except ValueError as error:
        return json_response({"error": f"the body is not JSON: {error}"}, 400)
    tenant = request.args.get("tenant")
    try:
        if contact_id is None:
            contact = sb.user_create_contact(fields, tenant)
        else:
            contact = sb.user_edit_contact(contact_id, fields, tenant)
    except ContactNotFound:
        return json_response({"error": f"no contact with ContactID {contact_id}"}, 404)
    except ContactRejected as rejected:
        body = {
            "error": "Xero would not save this: " + " ".join(rejected.errors),
            "ValidationErrors": [{"Message": m} for m in rejected.errors],
            "Contact": rejected.contact,
        }
        return json_response(body, 400)
    return json_response(contact)


ADMIN_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "state"): _state,
    ("POST", "reset"): _reset,
    ("GET", "calls"): _calls,
    ("DELETE", "calls"): _clear_calls,
    ("GET", "faults"): _faults,
    ("POST", "faults"): _add_faults,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "clock"): _clock,
    ("POST", "clock"): _advance_clock,
    ("GET", "config"): _config,
    ("POST", "config"): _update_config,
    ("GET", "contacts"): _contacts,
    ("POST", "contacts"): _put_contacts,
    ("POST", "generate"): _generate,
    ("POST", "tokens"): _tokens,
    ("GET", "webhooks"): _webhooks,
    ("POST", "webhooks"): _enable_webhooks,
    ("DELETE", "webhooks"): _disable_webhooks,
    ("POST", "webhooks/deliver"): _deliver_webhooks,
}
