"""What a piece of work cost upstream: requests to Xero and Zoho CRM, and Zoho's API credits."""

from __future__ import annotations

from typing import NamedTuple


class UpstreamCalls(NamedTuple):
    xero: int = 0  # requests to Xero (identity and API)
    zoho: int = 0  # requests to Zoho CRM (accounts and API)
    zoho_credits: int = 0  # the API credits those Zoho requests cost (chalicelib/zoho/limits.py)

    def since(self, before: UpstreamCalls) -> UpstreamCalls:
        return UpstreamCalls(*(now - then for now, then in zip(self, before, strict=True)))

    def counters(self) -> dict[str, int]:
        """The run's counters these add to (the names the run item keeps them under)."""
        return {"xero_calls": self.xero, "zoho_calls": self.zoho, "zoho_credits": self.zoho_credits}
