"""Xero Accounting API: the handful of Contacts calls the sync needs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.http import HttpService
from chalicelib.oauth import TokenManager

if TYPE_CHECKING:
    from chalicelib.xero.budget import XeroRateGate

RECONNECT = "Reconnect Xero from the portal (Connect › Xero) to fix this."
HISTORY_NOTE_MAX = 2500  # Xero's limit on a history note's Details


@dataclass
class ElementResult:
    """Xero's verdict on one contact of a `summarizeErrors=false` batch."""

    ok: bool
    contact: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def contact_id(self) -> str | None:
        return self.contact.get("ContactID")


class XeroClient:
    def __init__(
        self, http: HttpService, tokens: TokenManager, *, api_url: str, gate: XeroRateGate | None = None
    ) -> None:
        """`gate`: the shared per-organisation rate budget; None spends no budget (tests, tools).

        With a gate, every organisation call is reserved through it, and every answer is fed back
        to it through `http.on_response`, so a 429 is recorded before http.py retries or raises it.
        """
        self.http = http
        self.tokens = tokens
        self.base = api_url.rstrip("/") + "/api.xro/2.0"
        self.gate = gate
        if gate is not None:
            http.on_response = _both(http.on_response, gate.observe_response)

    # --- reads -------------------------------------------------------------

    def tenant_id(self, deadline: Deadline) -> str:
        tenant = self.tokens.current(deadline).tenant_id
        if not tenant:
            raise FatalError("No Xero organisation is selected. " + RECONNECT)
        return tenant

    def get_contact(self, key: str, deadline: Deadline) -> dict[str, Any] | None:
        """By ContactID (a GUID) or ContactNumber; archived contacts included; None if absent."""
        response = self._call("GET", f"/Contacts/{_quote(key)}", deadline)
        if response.status_code == 404:
            return None
        self._expect_ok(response, "reading a Xero contact")
        contacts = response.json().get("Contacts") or []
        return contacts[0] if contacts else None

    def find_active_by_name(self, name: str, deadline: Deadline) -> list[dict[str, Any]]:
        """Active contacts whose name equals `name` (Xero compares names case-insensitively)."""
        where = f'Name=="{_escape(name)}"'
        response = self._call("GET", "/Contacts", deadline, params={"where": where, "page": 1})
        self._expect_ok(response, "searching Xero contacts by name")
        return list(response.json().get("Contacts") or [])

    def list_contacts_page(
        self, page: int, deadline: Deadline, *, page_size: int = 1000
    ) -> list[dict[str, Any]]:
        """One page of every contact, archived included (bulk runs index them once per run)."""
        response = self._call(
            "GET",
            "/Contacts",
            deadline,
            params={"page": page, "pageSize": page_size, "includeArchived": "true"},
        )
        self._expect_ok(response, "listing Xero contacts")
        return list(response.json().get("Contacts") or [])

    def get_contacts_by_ids(self, ids: list[str], deadline: Deadline) -> list[dict[str, Any]]:
        """Many contacts in one call (`IDs=`, archived included); unknown ids are simply absent."""
        if not ids:
            return []
        response = self._call("GET", "/Contacts", deadline, params={"IDs": ",".join(ids), "page": 1})
        self._expect_ok(response, "reading changed Xero contacts")
        return list(response.json().get("Contacts") or [])

    def list_contacts_modified_since(
        self, since: str | None, page: int, deadline: Deadline, *, page_size: int = 1000
    ) -> list[dict[str, Any]]:
        """One page of the contacts changed since `since` (HTTP date or ISO), archived included."""
        headers = {"If-Modified-Since": since} if since else {}
        response = self._call(
            "GET",
            "/Contacts",
            deadline,
            params={"page": page, "pageSize": page_size, "includeArchived": "true"},
            headers=headers,
        )
        if response.status_code == 304:
            return []
        self._expect_ok(response, "listing changed Xero contacts")
        return list(response.json().get("Contacts") or [])

    def add_history_note(self, contact_id: str, details: str, deadline: Deadline) -> bool:
        """A note on the contact's History and Notes, where an accountant sees it. False if Xero refused."""
        response = self._call(
            "PUT",
            f"/Contacts/{_quote(contact_id)}/History",
            deadline,
            json={"HistoryRecords": [{"Details": details[:HISTORY_NOTE_MAX]}]},
        )
        return response.status_code == 200

    def organisation_short_code(self, deadline: Deadline) -> str | None:
        """The organisation's ShortCode (for deep links): kept with the token set once asked."""
        known = self.tokens.current(deadline).short_code
        if known:
            return known
        response = self._call("GET", "/Organisation", deadline)
        if response.status_code != 200:
            return None
        organisations = response.json().get("Organisations") or []
        code = organisations[0].get("ShortCode") if organisations else None
        if code:
            self.tokens.remember(short_code=str(code))
        return code

    # --- writes ------------------------------------------------------------

    def save_contacts(
        self, contacts: list[dict[str, Any]], *, idempotency_key: str, deadline: Deadline
    ) -> list[ElementResult]:
        """Create or update many contacts; one verdict per element, never all-or-nothing."""
        response = self._call(
            "POST",
            "/Contacts",
            deadline,
            params={"summarizeErrors": "false"},
            json={"Contacts": contacts},
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code == 400:
            raise self._bad_request(response)
        self._expect_ok(response, "saving contacts in Xero")
        return [_element_result(element) for element in response.json().get("Contacts") or []]

    # --- plumbing ----------------------------------------------------------

    def _call(self, method: str, path: str, deadline: Deadline, **kwargs: Any) -> requests.Response:
        token_set = self.tokens.current(deadline)
        response = self._send(method, path, deadline, token_set, kwargs)
        if response.status_code == 401:
            # Expired or revoked access token: refresh once (single-flight) and try again.
            token_set = self.tokens.refresh(deadline, rejected_access_token=token_set.access_token)
            response = self._send(method, path, deadline, token_set, kwargs)
            if response.status_code == 401:
                raise FatalError("Xero no longer accepts this app's authorisation. " + RECONNECT)
        if response.status_code == 403:
            raise FatalError(
                "Xero refused access to the organisation (wrong organisation or missing permission "
                "to contacts). " + RECONNECT,
                detail=response.text[:200],
            )
        return response

    def _send(
        self, method: str, path: str, deadline: Deadline, token_set: Any, kwargs: dict[str, Any]
    ) -> requests.Response:
        # The token refresh above stays outside the budget: identity calls are not organisation calls.
        with self._budget(token_set.tenant_id, deadline):
            return self.http.send(
                method, self.base + path, deadline=deadline, **self._auth(token_set, kwargs)
            )

    def _budget(self, tenant_id: str | None, deadline: Deadline) -> AbstractContextManager[Any]:
        if self.gate is None or not tenant_id:
            return nullcontext()
        return self.gate.call(tenant_id, deadline)

    def _auth(self, token_set: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        headers = dict(kwargs.get("headers") or {})
        headers.update(
            {
                "Authorization": f"Bearer {token_set.access_token}",
                "xero-tenant-id": token_set.tenant_id or "",
                "Accept": "application/json",
            }
        )
        return {**kwargs, "headers": headers}

    def _expect_ok(self, response: requests.Response, what: str) -> None:
        if response.status_code != 200:
            raise self.http.unexpected(response, what)

    def _bad_request(self, response: requests.Response) -> FatalError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        kind = body.get("Type") or "an error"
        return FatalError(
            f"Xero refused the request ({kind}): {body.get('Message') or response.text[:200]}",
            detail=f"HTTP 400 {kind}",
        )


def _both(
    first: Callable[[requests.Response], None] | None, second: Callable[[requests.Response], None]
) -> Callable[[requests.Response], None]:
    if first is None:
        return second

    def both(response: requests.Response) -> None:
        first(response)
        second(response)

    return both


def _element_result(element: dict[str, Any]) -> ElementResult:
    status = element.get("StatusAttributeString", "OK")
    errors = [e.get("Message") or e.get("Description") or "" for e in element.get("ValidationErrors") or []]
    warnings = [w.get("Message") or "" for w in element.get("Warnings") or []]
    ok = status in ("OK", "WARNING") and not errors
    return ElementResult(ok=ok, contact=element, errors=errors, warnings=warnings)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
