"""Links out of the portal: an Account in Zoho CRM, a contact in Xero."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class Links:
    def __init__(self, settings: Any, services: Any) -> None:
        self.zoho_web = settings.ZOHO_CRM_WEB_URL.rstrip("/")
        self._services = services

    def zoho_account(self, account_id: str) -> str:
        return f"{self.zoho_web}/crm/tab/Accounts/{quote(account_id, safe='')}"

    def xero_contact(self, contact_id: str | None) -> str | None:
        if not contact_id:
            return None
        try:
            # XeroLinks adds the organisation's short code (one Organisation call per process).
            return str(self._services.syncer.deps.links.contact_url(contact_id))
        except Exception:
            return None
