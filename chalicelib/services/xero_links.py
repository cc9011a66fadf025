"""Deep links that open a contact in the right Xero organisation."""

from __future__ import annotations

from collections.abc import Callable


class XeroLinks:
    def __init__(self, web_url: str, short_code: Callable[[], str | None]) -> None:
        self.web_url = web_url.rstrip("/")
        self._short_code = short_code
        self._cached: str | None = None
        self._looked_up = False

    def contact_url(self, contact_id: str) -> str:
        code = self._code()
        if code:
            return (
                f"{self.web_url}/organisationlogin/default.aspx?shortcode={code}"
                f"&redirecturl=/Contacts/View/{contact_id}"
            )
        return f"{self.web_url}/Contacts/View/{contact_id}"

    def _code(self) -> str | None:
        # One Organisation call per process; a failure just means a plainer link.
        if not self._looked_up:
            self._looked_up = True
            try:
                self._cached = self._short_code()
            except Exception:
                self._cached = None
        return self._cached
