"""Settings of the Zoho stand-in; every field can be changed at runtime (admin `config`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .limits import edition_limits


@dataclass
class ZohoSandboxConfig:
    client_id: str = "sandbox-zoho-client-id"
    client_secret: str = "sandbox-zoho-client-secret"
    refresh_token: str = "sandbox-zoho-refresh-token"
    access_token_ttl: int = 3600  # seconds, like Zoho's access tokens
    seed: bool = True
    webhook_url: str | None = None
    webhook_token: str | None = None
    webhook_format: str = "json"  # "json" | "form": the body type of the workflow webhook
    webhook_timeout: float = 10.0  # seconds a workflow webhook waits for the receiver
    button_timeout: float = 40.0  # Deluge invokeurl gives up after 40 s
    concurrency_limit: int = 10  # API calls in flight before 429 (Standard edition)
    daily_credits: int = 1_000_000  # API credits per rolling 24 h
    # An edition ("free", "standard", "professional", "enterprise", "ultimate") replaces the two
    # limits above with that edition's (sandbox/zoho/limits.py), for this many user licences.
    edition: str | None = None
    user_licenses: int = 10
    addon_credits: int = 0
    # Zoho blocks a refresh token that mints more than 10 access tokens in 10 minutes.
    token_refresh_limit: int | None = 10
    validate_requests: bool = True  # check PUT and COQL bodies against the official spec
    utc_offset_minutes: int = 0  # the org's time zone: DateTime values are written with it
    # GET of a record id that does not exist: "invalid_data" (400 INVALID_DATA, the default) or
    # "no_content" (204). Zoho's docs do not settle it; clients should handle both.
    unknown_record_answer: str = "invalid_data"
    # Zoho's COQL needs criteria grouped in pairs: ((A and B) and C). Off = SQL precedence.
    coql_strict_grouping: bool = True
    # The v7+ docs allow 100 IN values and 500 select columns; the project batches at 50,
    # so the stand-in holds it to the stricter, older limits by default.
    coql_max_in_values: int = 50
    coql_max_select_fields: int = 50
    # Fields set to "Do not allow duplicate values" in the org's layout, per module, e.g.
    # {"Accounts": ["Xero_ID"]}: an insert or update repeating a value answers DUPLICATE_DATA.
    unique_fields: dict[str, list[str]] | None = None

    def credit_limit(self) -> int | None:
        """Credits per rolling 24 h (None: unlimited, Ultimate)."""
        if self.edition is None:
            return self.daily_credits
        return edition_limits(self.edition, self.user_licenses, self.addon_credits)[0]

    def concurrency_cap(self) -> int:
        if self.edition is None:
            return self.concurrency_limit
        return edition_limits(self.edition, self.user_licenses, self.addon_credits)[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> list[str]:
        """Apply known keys; return the unknown ones (the caller reports them)."""
        known = {f.name for f in fields(self)}
        unknown = [key for key in changes if key not in known]
        if changes.get("edition") is not None:
            edition_limits(str(changes["edition"]), 0, 0)  # an unknown edition raises ValueError
        for key, value in changes.items():
            if key in known:
                setattr(self, key, value)
        return unknown
