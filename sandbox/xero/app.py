"""The Xero stand-in: a WSGI app serving Xero identity, connections and Accounting Contacts.

One lock guards all state; the server is threaded. Request pipeline for Accounting calls:
fault injection -> bearer token -> scope -> xero-tenant-id -> rate limits (call now in flight)
-> handler (under the lock) -> release. See README.md for what is faithful and what is not.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import Clock, Fault, FaultInjector, drop_connection
from sandbox.seed_data import XERO_CONTACTS
from sandbox.specs.xero_spec import contact_request_violations
from sandbox.xero import handlers
from sandbox.xero.config import TenantConfig, XeroSandboxConfig
from sandbox.xero.contacts import ContactBook, Outcome, render
from sandbox.xero.idempotency import IdempotencyCache
from sandbox.xero.identity import AccessDenied, Identity
from sandbox.xero.limits import RateLimiter
from sandbox.xero.synthetic import generate_contacts
from sandbox.xero.webhooks import Webhooks
from sandbox.xero.wire import JSON_TYPE, is_guid, new_guid, problem

ADMIN_PREFIX = "/__sandbox__/"
MAX_CALLS = 10_000  # the call log keeps the latest calls; counts cover everything (as the Zoho stand-in)
READ_CONTACTS = ("accounting.contacts", "accounting.contacts.read")
WRITE_CONTACTS = ("accounting.contacts",)
READ_SETTINGS = ("accounting.settings", "accounting.settings.read")


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: str  # name of a function in sandbox.xero.handlers
    template: str
    kind: str  # identity | connections | api
    scopes: tuple[str, ...] = ()


def _route(methods: str, template: str, handler: str, kind: str, scopes: tuple[str, ...] = ()) -> Route:
    """`template` like "/api.xro/2.0/Contacts/{key}"; `{name}` matches one path segment."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    # Xero's paths are case-insensitive (the SDK calls /Connections, the docs say /connections).
    pattern = re.compile(f"^{regex}/?$", re.IGNORECASE)
    return Route(tuple(methods.split("|")), pattern, handler, template, kind, scopes)


API = "/api.xro/2.0"
ROUTES = (
    _route("POST", "/connect/token", "token", "identity"),
    _route("POST", "/connect/revocation", "revoke", "identity"),
    _route("GET|POST", "/identity/connect/authorize", "authorize", "identity"),
    _route("GET", "/Connections", "connections", "connections"),
    _route("DELETE", "/Connections/{id}", "delete_connection", "connections"),
    _route("GET", f"{API}/Organisation", "organisation", "api", READ_SETTINGS),
    _route("GET", f"{API}/Contacts", "get_contacts", "api", READ_CONTACTS),
    _route("PUT", f"{API}/Contacts", "put_contacts", "api", WRITE_CONTACTS),
    _route("POST", f"{API}/Contacts", "post_contacts", "api", WRITE_CONTACTS),
    _route("GET", f"{API}/Contacts/{{key}}", "get_contact", "api", READ_CONTACTS),
    _route("POST", f"{API}/Contacts/{{key}}", "post_contact", "api", WRITE_CONTACTS),
    _route("GET", f"{API}/Contacts/{{key}}/History", "get_history", "api", READ_CONTACTS),
    # The docs: "In this case a POST is exactly the same as a PUT."
    _route("PUT|POST", f"{API}/Contacts/{{key}}/History", "put_history", "api", WRITE_CONTACTS),
)
API_USER = "System Generated"  # who Xero's history names for changes made through the API
UI_USER = "Sandbox User"  # the person editing contacts in Xero's UI (the user endpoints)


@dataclass
class Call:
    """One request on its way through the pipeline, plus its call-log entry."""

    request: Request
    route: Route
    params: dict[str, str]
    body: bytes
    entry: dict[str, Any]
    tenant: TenantConfig | None = None


class ContactRejected(ValueError):
    """A user edit Xero's UI would refuse; `errors` are the messages, `contact` the echoed input."""

    def __init__(self, errors: list[str], contact: dict[str, Any] | None = None) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.contact = contact or {}


class ContactNotFound(KeyError):
    pass


class _Dropped(Response):
    """Marker response: close the socket without answering."""


class XeroSandbox:
    """WSGI stand-in for Xero. `XeroSandbox()` is seeded, rate-limited and uses default config."""

    def __init__(self, config: XeroSandboxConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or XeroSandboxConfig()
        self._initial_config = copy.deepcopy(self.config)  # what reset() goes back to
        self.clock = clock or Clock()
        self.faults = FaultInjector()
        self._lock = threading.RLock()
        self.identity = Identity(self.config, self.clock)
        self.limiter = RateLimiter(self.config, self.clock)
        self.idempotency = IdempotencyCache(self.config, self.clock)
        self.books: dict[str, ContactBook] = {}
        # The call log keeps the latest MAX_CALLS calls (bounded memory however long it runs);
        # the counts cover every call since the last reset or clear.
        self._calls: deque[dict[str, Any]] = deque(maxlen=MAX_CALLS)
        self._counts: Counter[str] = Counter()
        self._total_calls = 0
        self.webhooks = Webhooks(self.config, self.clock.now)
        self.reset()

    # --- Python API ------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        """The first configured tenant (the seed organisation)."""
        return self.config.tenants[0].tenant_id

    def reset(self, seed: bool | None = None, *, keep_config: bool = False) -> None:
        """Fresh state: tokens, connections, contacts (seeded unless seed=False), limits, log, faults.

        The config goes back to what the sandbox was constructed with, so one test's `configure()`
        cannot leak into the next; `keep_config=True` keeps it (e.g. to apply changed tenants).
        The clock is left alone.
        """
        with self._lock:
            if not keep_config:
                self.config.update(copy.deepcopy(self._initial_config).to_dict())
            self.identity.reset()
            self.limiter.reset()
            self.idempotency.reset()
            self.faults.clear()
            self._forget_calls()
            self.books = {t.tenant_id.lower(): ContactBook() for t in self.config.tenants}
            self.webhooks.reset()
            if self.config.seed if seed is None else seed:
                self._seed()

    def _seed(self) -> None:
        book, now = self.book(), self.clock.now()
        for offset, contact in enumerate(XERO_CONTACTS):
            # Spread timestamps a second apart so the default order is the seed order.
            book.put_raw(contact, now - len(XERO_CONTACTS) + offset)

    def book(self, tenant_id: str | None = None) -> ContactBook:
        return self.books[(tenant_id or self.tenant_id).lower()]

    def configure(self, **changes: Any) -> None:
        """Partial config update (same as admin `POST config`)."""
        with self._lock:
            self.config.update(changes)

    def contacts(
        self, tenant_id: str | None = None, *, include_archived: bool = True
    ) -> list[dict[str, Any]]:
        """Every contact of a tenant, as GET /Contacts/{id} would render it."""
        with self._lock:
            records = self.book(tenant_id).ordered()
            return [render(r, "full") for r in records if include_archived or r.active]

    def contact(self, key: str, tenant_id: str | None = None) -> dict[str, Any] | None:
        """One contact by ContactID or ContactNumber (archived included), or None."""
        with self._lock:
            book = self.book(tenant_id)
            record = book.get(key) if is_guid(key) else book.by_number(key)
            return render(record, "full") if record else None

    def put_contact(self, contact: dict[str, Any], tenant_id: str | None = None) -> dict[str, Any]:
        """Insert or overwrite a raw contact, bypassing validation (e.g. ARCHIVED, MergedToContactID,
        a Website without http://, as if entered in Xero's UI)."""
        with self._lock:
            return render(self.book(tenant_id).put_raw(contact, self.clock.now()), "full")

    def generate_contacts(self, n: int, seed: int = 0, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Add `n` deterministic synthetic contacts (benchmarks); returns them rendered."""
        with self._lock:
            book, now = self.book(tenant_id), self.clock.now()
            return [render(book.put_raw(c, now), "full") for c in generate_contacts(n, seed)]

    def mint_refresh_token(self, scope: str | None = None) -> str:
        """A fresh refresh token of a new grant (for seeding apps under test)."""
        with self._lock:
            return self.identity.mint_refresh_token(scope)

    # --- webhooks (see webhooks.py) -----------------------------------------------------

    def enable_webhooks(self, url: str, key: str) -> dict[str, Any]:
        """Create / re-enable / re-point the app's one webhook subscription (all connected tenants).
        Runs intent to receive first (blocking, a few seconds at most); returns the state, whose
        `status` is OK or INTENT_TO_RECEIVE_FAILED with the portal's `reason`."""
        return self.webhooks.enable(url, key)

    def disable_webhooks(self) -> dict[str, Any]:
        return self.webhooks.disable()

    def webhook_state(self) -> dict[str, Any]:
        """Subscription state plus the delivery log (intent-to-receive checks and event POSTs)."""
        return self.webhooks.state()

    def deliver_webhooks(self, *, retries: bool = False) -> list[dict[str, Any]]:
        """Send pending events now (ignoring the batch window); `retries=True` also sends payloads
        waiting for their next retry. Returns the attempts made."""
        return self.webhooks.deliver_now(retries=retries)

    def close(self) -> None:
        """Stop the webhook delivery thread."""
        self.webhooks.stop()

    def _contact_saved(self, tenant_id: str, outcome: Outcome, user: str) -> None:
        """What every successful create/update does besides storing: history and a webhook event."""
        book = self.book(tenant_id)
        contact_id = outcome.contact["ContactID"]
        if outcome.created:
            book.add_history(
                contact_id,
                "Created",
                f"Contact {outcome.contact.get('Name', '')} created.",
                user,
                self.clock.now(),
            )
        else:
            details = "Edited " + (", ".join(outcome.changed) or "nothing") + "."
            book.add_history(contact_id, "Edited", details, user, self.clock.now())
        tenant = self.identity.connected_tenant(tenant_id)
        if tenant is not None:
            self.webhooks.record(
                tenant.tenant_id, tenant.tenant_type, contact_id, "CREATE" if outcome.created else "UPDATE"
            )

    # --- "as a Xero user" -------------------------------------------------------------------

    def user_create_contact(self, fields: dict[str, Any], tenant_id: str | None = None) -> dict[str, Any]:
        """Create a contact as a person does in Xero's UI. Raises ContactRejected."""
        return self._user_save(fields, None, tenant_id)

    def user_edit_contact(
        self, contact_id: str, fields: dict[str, Any], tenant_id: str | None = None
    ) -> dict[str, Any]:
        """Edit a contact as in Xero's UI (`ContactStatus` ARCHIVED archives, ACTIVE restores).
        Raises ContactNotFound or ContactRejected."""
        return self._user_save(fields, contact_id, tenant_id)

    def _user_save(self, fields: Any, contact_id: str | None, tenant_id: str | None) -> dict[str, Any]:
        _check_user_fields(fields, contact_id)
        with self._lock:
            tenant = tenant_id or self.tenant_id
            book = self.book(tenant)
            if contact_id is not None and (not is_guid(contact_id) or book.get(contact_id) is None):
                raise ContactNotFound(contact_id)
            outcome = book.save(
                fields,
                create_only=contact_id is None,
                now=self.clock.now(),
                forced_id=contact_id,
                as_user=True,
            )
            if not outcome.ok:
                raise ContactRejected(outcome.errors, outcome.contact)
            self._contact_saved(tenant, outcome, UI_USER)
            return outcome.contact

    def contact_history(self, contact_id: str, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """History and notes of a contact, newest first (what GET .../History returns)."""
        with self._lock:
            return self.book(tenant_id).history_of(contact_id)

    def add_fault(self, **fields: Any) -> Fault:
        fault = Fault(**fields)
        self.faults.add(fault)
        return fault

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def call_counts(self) -> dict[str, int]:
        """Calls per `METHOD /path/template` (e.g. `GET /api.xro/2.0/Contacts/{ContactID}`)."""
        with self._lock:
            return dict(self._counts)

    def clear_calls(self) -> None:
        with self._lock:
            self._forget_calls()

    def _forget_calls(self) -> None:
        self._calls.clear()
        self._counts.clear()
        self._total_calls = 0

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "now": self.clock.now(),
                "config": self.config.to_dict(),
                "tenants": [self._tenant_state(t) for t in self.config.tenants],
                "identity": self.identity.state(),
                "rate_limits": self.limiter.state(),
                "idempotency_keys": len(self.idempotency.entries),
                "calls": self._total_calls,
                "faults": self.faults.pending(),
            }

    def _tenant_state(self, tenant: TenantConfig) -> dict[str, Any]:
        records = self.books.get(tenant.tenant_id.lower(), ContactBook()).records.values()
        return {
            "tenant_id": tenant.tenant_id,
            "name": tenant.name,
            "contacts": len(records),
            "active_contacts": sum(r.active for r in records),
            "connected": self.identity.connected_tenant(tenant.tenant_id) is not None,
        }

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(ADMIN_PREFIX):
            from sandbox.xero.admin import handle_admin

            return handle_admin(self, request)(environ, start_response)
        response = self._dispatch(request)
        if isinstance(response, _Dropped):
            drop_connection(environ)
            # werkzeug's server treats ConnectionError as "client went away" and logs nothing;
            # returning normally would make it log a write-before-start_response traceback.
            raise ConnectionResetError("connection dropped by an injected sandbox fault")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        route, params, allowed = _match(request.method, request.path)
        entry = self._log_entry(request, route)
        if route is None:
            response = self._unrouted(allowed)
        else:
            call = Call(request, route, params, request.get_data(cache=True), entry)
            try:
                response = self._run(call)
            except Exception as error:  # a sandbox bug: answer 500 and keep it in the call log
                entry["error"] = repr(error)
                response = problem(500, "Internal Server Error", f"Sandbox error: {error!r}")
        response.headers.setdefault("Xero-Correlation-Id", entry["correlation_id"])
        with self._lock:
            entry["status"] = 0 if isinstance(response, _Dropped) else response.status_code
            self._calls.append(entry)
            self._counts[f"{entry['method']} {entry['template']}"] += 1
            self._total_calls += 1
        return response

    def _unrouted(self, allowed: set[str]) -> Response:
        if allowed:
            response = problem(
                405, "Method Not Allowed", "The requested resource does not support this method"
            )
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
        return problem(404, "Not Found", "The resource you're looking for cannot be found")

    def _log_entry(self, request: Request, route: Route | None) -> dict[str, Any]:
        template = route.template if route else request.path
        key = route.pattern.match(request.path) if route else None
        if key and "{key}" in template:
            # Tell ContactID lookups from ContactNumber lookups in the counts.
            template = template.replace(
                "{key}", "{ContactID}" if is_guid(key.group("key")) else "{ContactNumber}"
            )
        return {
            "time": self.clock.now(),
            "method": request.method,
            "path": request.path,
            "template": template,
            "query": request.args.to_dict(flat=True),
            "tenant": request.headers.get("xero-tenant-id"),
            "idempotency_key": request.headers.get("Idempotency-Key"),
            "correlation_id": new_guid(),
        }

    # --- pipeline -----------------------------------------------------------------------------

    def _run(self, call: Call) -> Response:
        fault = self.faults.take(call.request.method, call.request.path)
        if fault:
            call.entry["fault"] = {k: v for k, v in vars(fault).items() if not k.startswith("_")}
            if fault.drop or fault.status or fault.body is not None:
                return self._fault_response(fault, call)
        delay = fault.delay if fault else 0.0
        if call.route.kind == "identity":
            time.sleep(delay)
            with self._lock:
                return getattr(handlers, call.route.handler)(self, call)
        denied = self._authorize(call)
        if denied is not None:
            return denied
        return self._admitted(call, delay)

    def _authorize(self, call: Call) -> Response | None:
        """401 for a bad/expired token or missing scope; 403 for a tenant that is not connected."""
        with self._lock:
            try:
                token = self.identity.check_access(call.request.headers.get("Authorization"))
            except AccessDenied as denied:
                return problem(401, "Unauthorized", denied.detail)
            if call.route.scopes and not token.scopes & set(call.route.scopes):
                return problem(401, "Unauthorized", "AuthorizationUnsuccessful")
            if call.route.kind == "api":
                call.tenant = self.identity.connected_tenant(call.request.headers.get("xero-tenant-id"))
                if call.tenant is None:
                    return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        return None

    def _admitted(self, call: Call, delay: float) -> Response:
        """Count the call against the limits, keep it in flight while it runs, then release it."""
        tenant_id = call.tenant.tenant_id if call.tenant else None
        with self._lock:
            rejection = self.limiter.admit(tenant_id)
            if rejection:
                call.entry["rate_limited"] = rejection.problem
                response = problem(429, "Too Many Requests", f"Rate limit exceeded: {rejection.problem}")
                response.headers["Retry-After"] = str(rejection.retry_after)
                response.headers["X-Rate-Limit-Problem"] = rejection.problem
                response.headers.update(self.limiter.headers(tenant_id))
                return response
        try:
            time.sleep(delay)  # an injected delay holds a concurrency slot, like a slow Xero call
            with self._lock:
                response = getattr(handlers, call.route.handler)(self, call)
        finally:
            with self._lock:
                self.limiter.release(tenant_id)
        with self._lock:
            response.headers.update(self.limiter.headers(tenant_id))
        return response

    def _fault_response(self, fault: Fault, call: Call) -> Response:
        """An injected failure; it never reaches the handler and is not counted against limits."""
        time.sleep(fault.delay)
        if fault.drop:
            return _Dropped()
        status = fault.status or 500
        if isinstance(fault.body, str):
            response = Response(fault.body, status=status, content_type="text/plain; charset=utf-8")
        elif fault.body is not None:
            response = Response(json.dumps(fault.body), status=status, content_type=JSON_TYPE)
        else:
            response = problem(status, HTTPStatus(status).phrase, "Injected fault (sandbox)")
        if status == 429:
            response.headers["X-Rate-Limit-Problem"] = "minute"
            response.headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 60)
        elif fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response


def _match(method: str, path: str) -> tuple[Route | None, dict[str, str], set[str]]:
    allowed: set[str] = set()
    for route in ROUTES:
        found = route.pattern.match(path)
        if not found:
            continue
        if method.upper() in route.methods:
            return route, found.groupdict(), allowed
        allowed.update(route.methods)
    return None, {}, allowed


# Fields Xero's UI shows but the API owns: ContactNumber ("Contact Code") is settable only via the API.
API_ONLY_FIELDS = ("ContactNumber",)
USER_WRITABLE_READ_ONLY = ("Website",)  # read-only in the API, typed freely in the UI


def _check_user_fields(fields: Any, contact_id: str | None) -> None:
    """What Xero's UI would not let a person do, before any business rule."""
    if not isinstance(fields, dict) or not fields:
        raise ContactRejected(['Send the contact\'s fields as a JSON object, e.g. {"Name": "Acme"}.'])
    errors = [
        f"{name} can only be set through the API (Xero shows it read-only as the Contact Code)."
        for name in API_ONLY_FIELDS
        if name in fields
    ]
    given_id = fields.get("ContactID")
    if given_id is not None and (contact_id is None or str(given_id).lower() != contact_id.lower()):
        errors.append("ContactID is assigned by Xero and cannot be changed.")
    checked = {k: v for k, v in fields.items() if k not in USER_WRITABLE_READ_ONLY}
    violations = contact_request_violations({"Contacts": [checked]})
    errors += [str(v).removeprefix("Contacts[0].") for v in violations if v.keyword != "maxLength"]
    if errors:
        raise ContactRejected(errors, fields)
