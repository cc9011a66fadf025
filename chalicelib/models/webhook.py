"""What Zoho sends to `POST /webhooks/zoho` and what we put on the sync queue."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

ZOHO_ID = re.compile(r"^[0-9]{1,30}$")


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    account_id: str | None = None
    contact_id: str | None = None
    source: Literal["button", "workflow"] = "workflow"

    @field_validator("account_id", "contact_id", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("account_id", "contact_id")
    @classmethod
    def _zoho_id(cls, value: str | None) -> str | None:
        if value is not None and not ZOHO_ID.match(value):
            raise ValueError("must be a Zoho record id (digits only)")
        return value

    @model_validator(mode="after")
    def _needs_a_record(self) -> WebhookRequest:
        if not self.account_id and not self.contact_id:
            raise ValueError("account_id is required (or contact_id for a Contacts rule)")
        return self


class SyncMessage(BaseModel):
    """One unit of queued work: sync this Account (or the Account of this Contact)."""

    model_config = ConfigDict(extra="ignore")

    account_id: str | None = None
    contact_id: str | None = None
    trigger: Literal["button", "workflow", "run"] = "workflow"
    run_id: str | None = None
    requested_at: str | None = None

    @property
    def group_id(self) -> str:
        # One FIFO message group per Account, so syncs of one Account never race.
        return f"account-{self.account_id}" if self.account_id else f"contact-{self.contact_id}"
