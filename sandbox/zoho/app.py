"""`ZohoSandbox`: the WSGI app standing in for Zoho CRM v8 and Zoho Accounts, with a Python API
for arranging state and reading what happened."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.common import Clock, Fault, FaultInjector, drop_connection

from . import admin, api, deleted
from .config import ZohoSandboxConfig
from .errors import (
    ZohoError,
    credits_exhausted,
    error_body,
    internal_error,
    invalid_method,
    invalid_token,
    invalid_url,
    too_many_in_flight,
)
from .generate import generate
from .limits import SUB_CONCURRENCY, Concurrency, Credits
from .metadata import API_USER_ID, CRM_USER_ID, MODULES
from .oauth import OAuthServer
from .store import Store
from .timefmt import format_datetime
from .web import Call, json_response
from .webhooks import Automation

MAX_CALLS = 10_000  # the call log keeps the latest calls; counts cover everything

API_RULES = Map(
    [
        Rule("/oauth/v2/token", methods=["POST"], endpoint="oauth_token"),
        Rule("/oauth/v2/token/revoke", methods=["POST"], endpoint="oauth_revoke"),
        Rule("/oauth/v2/auth", methods=["GET", "POST"], endpoint="oauth_auth"),
        Rule("/crm/v8/settings/fields", methods=["GET"], endpoint="fields"),
        Rule("/crm/v8/settings/related_lists", methods=["GET"], endpoint="related_lists"),
        Rule("/crm/v8/settings/modules", methods=["GET"], endpoint="modules"),
        Rule("/crm/v8/coql", methods=["POST"], endpoint="coql"),
        Rule("/crm/v8/<module>", methods=["GET", "PUT", "POST"], endpoint="records"),
        Rule("/crm/v8/<module>/deleted", methods=["GET"], endpoint="deleted"),
        Rule("/crm/v8/<module>/<record_id>", methods=["GET", "PUT", "DELETE"], endpoint="record"),
        Rule("/crm/v8/<module>/<record_id>/<related>", methods=["GET"], endpoint="related"),
    ],
    strict_slashes=False,
)


ENDPOINTS: dict[str, Callable[..., Response]] = {
    "oauth_token": api.oauth_token,
    "oauth_revoke": api.oauth_revoke,
    "oauth_auth": api.oauth_auth,
    "fields": api.fields,
    "related_lists": api.related_lists,
    "modules": api.modules,
    "coql": api.run_coql,
    "records": api.records,
    "record": api.record,
    "related": api.related_records,
    "deleted": deleted.list_deleted,
}


def _template(endpoint: str, args: dict[str, str], path: str) -> str:
    """The path with ids replaced, for call counts: /crm/v8/Accounts/{id}/Contacts."""
    module = args.get("module", "")
    module = module if module in MODULES else "{module}"
    if endpoint == "records":
        return f"/crm/v8/{module}"
    if endpoint == "record":
        return f"/crm/v8/{module}/{{id}}"
    if endpoint == "deleted":
        return f"/crm/v8/{module}/deleted"
    if endpoint == "related":
        return f"/crm/v8/{module}/{{id}}/{args.get('related')}"
    return path


class ZohoSandbox:
    """The Zoho stand-in. A WSGI callable; see README.md for the HTTP and Python interfaces."""

    def __init__(self, config: ZohoSandboxConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or ZohoSandboxConfig()
        self.clock = clock or Clock()
        # One lock for records, tokens, page tokens and the call log; re-entrant because the
        # handlers nest helpers that take it.
        self.lock = threading.RLock()
        self.store = Store()
        self.oauth = OAuthServer(self.config)
        self.automation = Automation(self.config, self.clock.now)
        self.faults = FaultInjector()
        self.concurrency = Concurrency()
        self.sub_concurrency = Concurrency()  # COQL's own cap of 10 calls in flight
        self.credits = Credits()
        self.page_tokens: dict[str, dict[str, Any]] = {}
        self._calls: deque[dict[str, Any]] = deque(maxlen=MAX_CALLS)
        self._counts: Counter[str] = Counter()
        self._seq = 0
        self.reset(self.config.seed)

    # ==== WSGI ===================================================================================
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(admin.PREFIX):
            return admin.handle(self, request)(environ, start_response)
        call = Call(request, log=self._start_log(request))
        started = time.monotonic()
        response = self._serve(call)
        if response is None:  # a dropped connection
            self._finish_log(call, None, started)
            return drop_connection(environ)
        self._finish_log(call, response, started)
        return response(environ, start_response)

    def _serve(self, call: Call) -> Response | None:
        limited = call.request.path.startswith("/crm/")
        heavy = limited and call.request.path.endswith("/coql")
        cap = self.config.concurrency_cap()
        allowed = self.concurrency.enter(cap) if limited else True
        allowed = (self.sub_concurrency.enter(SUB_CONCURRENCY) if heavy else True) and allowed
        try:
            if not allowed:
                raise too_many_in_flight(min(cap, SUB_CONCURRENCY) if heavy else cap)
            fault = self.faults.take(call.request.method, call.request.path)
            if fault is not None:
                answer = self._apply_fault(call, fault)
                if answer is not False:
                    return answer
            return self._dispatch(call, limited)
        except ZohoError as exc:
            call.log["error"] = exc.body()
            return json_response(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # a stand-in bug must still look like Zoho's 500
            call.note(f"stand-in error: {type(exc).__name__}: {exc}")
            call.log["error"] = internal_error()
            return json_response(500, internal_error())
        finally:
            if limited:
                self.concurrency.leave()
            if heavy:
                self.sub_concurrency.leave()

    def _apply_fault(self, call: Call, fault: Fault) -> Response | bool | None:
        """Sleep, drop or answer as the fault says; False lets the call through."""
        call.log["fault"] = {k: v for k, v in vars(fault).items() if not k.startswith("_")}
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            return None
        if fault.status is None:
            return False
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        body = fault.body if fault.body is not None else _fault_body(fault.status)
        return json_response(fault.status, body, headers)

    def _dispatch(self, call: Call, limited: bool) -> Response:
        adapter = API_RULES.bind_to_environ(call.request.environ)
        try:
            endpoint, args = adapter.match()
        except (MethodNotAllowed, NotFound) as exc:
            endpoint, args, route_error = "", {}, exc
        else:
            route_error = None
            call.template = _template(str(endpoint), args, call.request.path)
        # Zoho checks the token before it looks at the URL.
        if limited and not self.oauth_check(call.request.headers.get("Authorization")):
            raise invalid_token()
        if route_error is not None:
            raise invalid_method() if isinstance(route_error, MethodNotAllowed) else invalid_url()
        if limited:
            self._check_credits()
        response = ENDPOINTS[str(endpoint)](self, call, **args)
        if limited and response.status_code < 400:
            self._spend(call, response)
        return response

    # ==== limits ================================================================================
    def oauth_check(self, header: str | None) -> bool:
        with self.lock:
            return self.oauth.check(header, self.clock.now())

    def _check_credits(self) -> None:
        limit = self.config.credit_limit()
        if limit is not None and self.credits.used(self.clock.now()) >= limit:
            raise credits_exhausted(limit)

    def _spend(self, call: Call, response: Response) -> None:
        now = self.clock.now()
        self.credits.spend(now, call.credits)
        call.log["credits"] = call.credits
        used = self.credits.used(now)
        limit = self.config.credit_limit()
        if limit is not None and used * 2 >= limit:  # Zoho shows the header from 50 % usage on
            response.headers["X-API-CREDITS-REMAINING"] = str(max(0, limit - used))

    # ==== call log ==============================================================================
    def _start_log(self, request: Request) -> dict[str, Any]:
        with self.lock:
            self._seq += 1
            seq = self._seq
        return {
            "seq": seq,
            "time": format_datetime(self.clock.now(), self.config.utc_offset_minutes),
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(flat=True),
        }

    def _finish_log(self, call: Call, response: Response | None, started: float) -> None:
        log = call.log
        log["template"] = call.template or "(no route)"
        log["status"] = response.status_code if response is not None else None
        log["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        with self.lock:
            self._calls.append(log)
            self._counts[f"{log['method']} {log['template']}"] += 1

    # ==== Python API ============================================================================
    def reset(self, seed: bool | None = None) -> None:
        """Forget everything (records, tokens, calls, faults, webhooks, credits); reseed if asked."""
        seed = self.config.seed if seed is None else seed
        with self.lock:
            self.store.clear()
            self.store.offset_minutes = self.config.utc_offset_minutes
            self.oauth.reset()
            self.page_tokens.clear()
            self._calls.clear()
            self._counts.clear()
            self.faults.clear()
            self.credits.reset()
            self.automation.clear()
            if seed:
                self.store.load_seed(self.clock.now())

    def configure(self, **options: Any) -> ZohoSandboxConfig:
        """Change settings at runtime, e.g. configure(webhook_url=..., webhook_token=...)."""
        with self.lock:
            unknown = self.config.update(options)
            self.store.offset_minutes = self.config.utc_offset_minutes
        if unknown:
            raise ValueError(f"unknown config keys {unknown}")
        return self.config

    def records(self, module: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.store.render(_known(module), r) for r in self.store.all(_known(module))]

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            record = self.store.get(_known(module), record_id)
            return None if record is None else self.store.render(module, record)

    def create(self, module: str, fields: dict[str, Any], automation: bool = True) -> dict[str, Any]:
        """Create a record as a CRM user would (workflow rules fire)."""
        return admin.user_write(self, _known(module), None, fields, automation)

    def edit(
        self, module: str, record_id: str, fields: dict[str, Any], automation: bool = True
    ) -> dict[str, Any]:
        """Edit a record as a CRM user would: Modified_Time moves, workflow rules fire."""
        return admin.user_write(self, _known(module), record_id, fields, automation)

    def delete(
        self, module: str, record_id: str, *, user_id: str = CRM_USER_ID, permanent: bool = False
    ) -> bool:
        """Delete a record as a CRM user does (to the recycle bin), or for good; either way
        `GET /crm/v8/{module}/deleted` lists it from then on."""
        kind = "permanent" if permanent else "recycle"
        with self.lock:
            return self.store.delete(_known(module), record_id, self.clock.now(), user_id, kind)

    def generate(self, n: int, seed: int = 1) -> dict[str, Any]:
        with self.lock:
            return generate(self.store, n, seed, self.clock.now())

    def calls(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._calls)

    def call_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self._counts)

    def clear_calls(self) -> None:
        with self.lock:
            self._calls.clear()
            self._counts.clear()

    def click_button(self, account_id: str) -> dict[str, Any]:
        """Press "Sync to Xero" on an Account; returns what the user would see."""
        if not self.config.webhook_url:
            raise ValueError("no webhook_url configured")
        with self.lock:
            if not self.store.exists("Accounts", account_id):
                raise KeyError(account_id)
        return self.automation.button(account_id)

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        return self.automation.deliveries()

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        return self.automation.wait_idle(timeout)

    def access_token(self, api_domain: str = "http://localhost") -> str:
        """A live access token without going through /oauth/v2/token."""
        with self.lock:
            return self.oauth.mint(self.clock.now(), api_domain)

    def credits_used(self) -> int:
        return self.credits.used(self.clock.now())

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "config": self.config.to_dict(),
                "now": format_datetime(self.clock.now(), self.config.utc_offset_minutes),
                "records": {module: len(self.store.modules[module]) for module in MODULES},
                "access_tokens": len(self.oauth.state.access),
                "credits_used": self.credits_used(),
                "in_flight": self.concurrency.in_flight,
                "faults": self.faults.pending(),
                "calls": sum(self._counts.values()),
                "webhook_deliveries": len(self.automation.deliveries()),
                "users": {"crm_user": CRM_USER_ID, "api_user": API_USER_ID},
            }

    def workflow_payload(self, module: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """The workflow rule: Accounts with Add_to_Xero ticked, and every Contact."""
        if module == "Accounts":
            return {"account_id": record["id"], "source": "workflow"} if record.get("Add_to_Xero") else None
        return {"contact_id": record["id"], "source": "workflow"}


def _known(module: str) -> str:
    if module not in MODULES:
        raise KeyError(f"unknown module {module!r}; expected one of {sorted(MODULES)}")
    return module


def _fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return error_body("TOO_MANY_REQUESTS", "too many requests. please try again after some time")
    if status >= 500:
        return internal_error()
    return error_body("INVALID_REQUEST", f"injected fault {status}")
