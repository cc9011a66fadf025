"""Zoho CRM v8 API: read Accounts and Contacts, write the sync result back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RejectedError
from chalicelib.http import HttpService
from chalicelib.models.sync import TokenSet
from chalicelib.oauth import TokenManager
from chalicelib.zoho.auth import RECONNECT

API_VERSION = "v8"
PAGE_SIZE = 200  # Zoho's maximum per_page for related lists
MAX_UPDATE_RECORDS = 100  # Zoho's maximum per PUT

Record = dict[str, Any]  # one record as Zoho's JSON has it


class ZohoClient:
    def __init__(self, http: HttpService, tokens: TokenManager) -> None:
        self.http = http
        self.tokens = tokens

    def get_record(self, module: str, record_id: str, fields: list[str], deadline: Deadline) -> Record | None:
        """One record, or None when Zoho says it does not exist."""
        response = self._call(
            "GET", f"/{module}/{quote(record_id)}", deadline, params={"fields": ",".join(fields)}
        )
        if response.status_code == 204 or _is_invalid_id(response):
            return None
        self._expect(response, (200,), f"reading {module} record {record_id} from Zoho CRM")
        rows = response.json().get("data") or []
        return rows[0] if rows else None

    def get_related_contacts(self, account_id: str, fields: list[str], deadline: Deadline) -> list[Record]:
        """Every Contact of an Account, page by page (204 means none)."""
        contacts: list[Record] = []
        page = 1
        while True:
            response = self._call(
                "GET",
                f"/Accounts/{quote(account_id)}/Contacts",
                deadline,
                params={"fields": ",".join(fields), "per_page": PAGE_SIZE, "page": page},
            )
            if response.status_code == 204:
                return contacts
            self._expect(response, (200,), f"reading the Contacts of Account {account_id} from Zoho CRM")
            body = response.json()
            contacts.extend(body.get("data") or [])
            if not (body.get("info") or {}).get("more_records"):
                return contacts
            page += 1

    def update_accounts(self, records: list[dict[str, Any]], deadline: Deadline) -> list[dict[str, Any]]:
        """Write fields onto Accounts without firing workflow rules (so we never loop)."""
        if len(records) > MAX_UPDATE_RECORDS:
            raise ValueError(f"Zoho accepts at most {MAX_UPDATE_RECORDS} records per update")
        response = self._call("PUT", "/Accounts", deadline, json={"data": records, "trigger": []})
        self._expect(response, (200, 202, 207, 400), "writing the sync result back to Zoho CRM")
        return list(response.json().get("data") or [])

    def create_records(
        self, module: str, records: list[dict[str, Any]], deadline: Deadline
    ) -> list[dict[str, Any]]:
        """Insert records without firing workflow rules; one answer per record (code SUCCESS or why not)."""
        return self._write_records("POST", module, records, deadline, f"creating {module} in Zoho CRM")

    def update_records(
        self, module: str, records: list[dict[str, Any]], deadline: Deadline
    ) -> list[dict[str, Any]]:
        """Update records (each with its id) without firing workflow rules; one answer per record."""
        return self._write_records("PUT", module, records, deadline, f"updating {module} in Zoho CRM")

    def _write_records(
        self, method: str, module: str, records: list[dict[str, Any]], deadline: Deadline, what: str
    ) -> list[dict[str, Any]]:
        if len(records) > MAX_UPDATE_RECORDS:
            raise ValueError(f"Zoho accepts at most {MAX_UPDATE_RECORDS} records per call")
        response = self._call(method, f"/{module}", deadline, json={"data": records, "trigger": []})
        self._expect(response, (200, 201, 202, 207, 400), what)
        rows = list(response.json().get("data") or [])
        if not rows and response.status_code == 400:  # a refusal of the whole request
            code, message = _zoho_error(response)
            rows = [{"code": code, "message": message, "status": "error", "details": {}} for _ in records]
        return rows

    def list_deleted(
        self, module: str, since: str | None, page: int, deadline: Deadline
    ) -> tuple[list[Record], bool]:
        """One page of the records deleted after `since` (a Zoho DateTime), recycle bin and
        permanent alike (`type=all`), and whether more pages follow; 204 means none."""
        response = self._call(
            "GET",
            f"/{module}/deleted",
            deadline,
            params={"type": "all", "page": page, "per_page": PAGE_SIZE},
            headers={"If-Modified-Since": since} if since else None,
        )
        if response.status_code in (204, 304):
            return [], False
        self._expect(response, (200,), f"listing the {module} deleted in Zoho CRM")
        body = response.json()
        return list(body.get("data") or []), bool((body.get("info") or {}).get("more_records"))

    def coql(self, query: str, deadline: Deadline) -> tuple[list[Record], bool]:
        response = self._call("POST", "/coql", deadline, json={"select_query": query})
        if response.status_code == 204:
            return [], False
        self._expect(response, (200,), "querying Zoho CRM")
        body = response.json()
        return list(body.get("data") or []), bool((body.get("info") or {}).get("more_records"))

    # --- plumbing ----------------------------------------------------------

    def _call(self, method: str, path: str, deadline: Deadline, **kwargs: Any) -> requests.Response:
        token_set = self.tokens.current(deadline)
        response = self._send(method, path, token_set, deadline, **kwargs)
        if response.status_code == 401:
            token_set = self.tokens.refresh(deadline, rejected_access_token=token_set.access_token)
            response = self._send(method, path, token_set, deadline, **kwargs)
            if response.status_code == 401:
                raise FatalError("Zoho CRM no longer accepts this app's access. " + RECONNECT)
        return response

    def _send(
        self, method: str, path: str, token_set: TokenSet, deadline: Deadline, **kwargs: Any
    ) -> requests.Response:
        if not token_set.api_domain:
            raise FatalError("Zoho CRM did not say which data centre to use. " + RECONNECT)
        headers = {
            **(kwargs.pop("headers", None) or {}),
            "Authorization": f"Zoho-oauthtoken {token_set.access_token}",
        }
        url = f"{token_set.api_domain.rstrip('/')}/crm/{API_VERSION}{path}"
        return self.http.send(method, url, deadline=deadline, headers=headers, **kwargs)

    def _expect(self, response: requests.Response, statuses: tuple[int, ...], what: str) -> None:
        if response.status_code in statuses:
            return
        code, message = _zoho_error(response)
        if code in ("NO_PERMISSION", "OAUTH_SCOPE_MISMATCH"):
            raise FatalError(
                f"Zoho CRM refused permission while {what} ({message}). Reconnect Zoho with the scopes "
                "listed in docs/zoho-setup.md.",
                detail=code,
            )
        if code == "INVALID_DATA" and response.request.method == "GET":
            raise RejectedError(
                f"Zoho CRM refused the request while {what}: {message.rstrip('. ')}. Check that the "
                "record still exists in Zoho CRM, then sync again.",
                detail=code,
            )
        raise self.http.unexpected(response, what)


def _zoho_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if isinstance(body, dict):
        return str(body.get("code", "")), str(body.get("message", ""))
    return "", ""


def _is_invalid_id(response: requests.Response) -> bool:
    """Zoho answers an unknown record id with 400 INVALID_DATA, top-level or per record."""
    if response.status_code not in (400, 404):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    records = body.get("data") or [{}]
    return body.get("code") == "INVALID_DATA" or records[0].get("code") == "INVALID_DATA"
