"""Configuration from the environment, read at call time (never at import).

Deployed, secrets come from one AWS Secrets Manager secret (a JSON object whose
keys are the variable names below) named by `SECRETS_ID`; locally they come
from the environment. Environment variables win over the secret so an operator
can override one value without editing the secret.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEYS = (
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_REFRESH_TOKEN",
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_REFRESH_TOKEN",
    "WEBHOOK_TOKEN",
    "ADMIN_TOKEN",
    "ADMIN_PASSWORD_HASH",
    "SESSION_SECRET",
    "XERO_WEBHOOK_KEY",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    # Zoho CRM
    ZOHO_ACCOUNTS_URL: str = "https://accounts.zoho.com"
    ZOHO_CLIENT_ID: str = ""
    ZOHO_CLIENT_SECRET: SecretStr = SecretStr("")
    ZOHO_REFRESH_TOKEN: SecretStr = SecretStr("")
    # Link shown for an Account in the portal; the CRM web host of the data centre.
    ZOHO_CRM_WEB_URL: str = "https://crm.zoho.com"
    # Zoho CRM calls in flight at once per organisation, by edition (Free 5, Standard 10,
    # Professional 15, Enterprise 20, Ultimate 25); sizes the connection pool to Zoho's API.
    ZOHO_CONCURRENT_LIMIT: int = Field(default=10, ge=1, le=25)
    # When Zoho CRM's API credits of the rolling 24 hours are used up, a run pauses this long
    # before it tries again (Zoho gives no reset time: credits come back as the window rolls).
    ZOHO_CREDITS_RETRY_SECONDS: int = Field(default=900, ge=60, le=86400)

    # Xero
    XERO_IDENTITY_URL: str = "https://identity.xero.com"
    # Where a person signs in to connect Xero (the authorize page of the connect flow).
    XERO_LOGIN_URL: str = "https://login.xero.com"
    XERO_API_URL: str = "https://api.xero.com"
    XERO_CLIENT_ID: str = ""
    XERO_CLIENT_SECRET: SecretStr = SecretStr("")
    XERO_REFRESH_TOKEN: SecretStr = SecretStr("")
    XERO_TENANT_ID: str = ""
    XERO_WEB_URL: str = "https://go.xero.com"
    # Xero's per-organisation limits, shared by every Lambda (Starter-tier apps: 1000 a day).
    # Above Xero's own limits a value would only earn 429s, so those are the upper bounds.
    XERO_MINUTE_LIMIT: int = Field(default=60, ge=1, le=60)
    XERO_CONCURRENT_LIMIT: int = Field(default=5, ge=1, le=5)
    XERO_DAY_LIMIT: int = Field(default=5000, ge=1, le=5000)
    # Xero → Zoho CRM: the webhook's signing key (developer portal › Webhooks), and whether a
    # contact created in Xero creates its Account in Zoho CRM.
    XERO_WEBHOOK_KEY: SecretStr = SecretStr("")
    XERO_CREATES_ACCOUNTS: bool = True
    # A Zoho Account deleted (found through Zoho's deleted-records list) archives its Xero contact.
    ARCHIVE_ON_ZOHO_DELETE: bool = True
    # How often the minute schedule reads Zoho's deleted-records list (1 API credit a read:
    # 1,440 a day every minute, 29 % of the Free edition's 5,000; 96 a day every 15 minutes).
    ZOHO_DELETIONS_POLL_MINUTES: int = Field(default=15, ge=1, le=60)
    # Both Way: one_way (each change flows the way it came: a click Zoho → Xero, a Xero event
    # Xero → Zoho) | both (a linked pair's click or Xero event merges both sides against the
    # last synced values); and who wins a field both sides changed differently.
    SYNC_MODE: Literal["one_way", "both"] = "one_way"
    CONFLICT_POLICY: Literal["newest_wins", "zoho_wins", "xero_wins", "hold"] = "newest_wins"

    # Our own API
    WEBHOOK_TOKEN: SecretStr = SecretStr("")
    # A signed button click older than this (or over a minute ahead of our clock) is refused.
    WEBHOOK_MAX_AGE_SECONDS: float = Field(default=300.0, ge=30, le=3600)
    ADMIN_TOKEN: SecretStr = SecretStr("")

    # The portal (/portal): sign-in password as a salted scrypt hash
    # (`python -m chalicelib.portal.hash_password`); unset, ADMIN_TOKEN is the password.
    ADMIN_PASSWORD_HASH: SecretStr = SecretStr("")
    SESSION_SECRET: SecretStr = SecretStr("")  # signs the session cookie
    PORTAL_SESSION_HOURS: float = Field(default=8.0, gt=0, le=24 * 7)
    # Public base URL of the API (e.g. https://abc.execute-api.eu-west-1.amazonaws.com/api);
    # OAuth redirect URIs and links in e-mails start with it. Unset: taken from each request.
    PORTAL_BASE_URL: str = ""
    SUMMARY_EMAIL_FROM: str = ""  # an SES-verified sender for the run summary e-mail

    # AWS resources
    TABLE_NAME: str = "zoho-xero-sync"
    SYNC_QUEUE_NAME: str = "zoho-xero-sync.fifo"
    SYNC_QUEUE_URL: str = ""
    RUNS_QUEUE_NAME: str = "zoho-xero-runs"
    RUNS_QUEUE_URL: str = ""
    RUNS_DLQ_URL: str = ""  # the runs queue's dead-letter queue (its depth shows in run status)
    SECRETS_ID: str = ""

    # Behaviour
    BUTTON_BUDGET_SECONDS: float = Field(default=25.0, gt=0, le=35)
    HTTP_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)  # read: the longest wait for an answer's bytes
    HTTP_CONNECT_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)  # opening a connection to Zoho or Xero
    ACCOUNT_LOCK_SECONDS: float = Field(default=60.0, gt=0)
    TOKEN_LEASE_SECONDS: float = Field(default=30.0, gt=0)
    MAX_QUEUE_RECEIVES: int = Field(default=5, ge=1)
    HISTORY_TTL_DAYS: int = Field(default=400, ge=1)
    # Workflow events on one record this close together become one sync; 0 = one sync per event.
    COALESCE_SECONDS: float = Field(default=3.0, ge=0, le=60)
    MAPPING_FILE: str = ""

    # Bulk runs
    SYNC_SCHEDULE_HOURS: int = Field(default=4, ge=1, le=24)  # also read by app.py when packaging
    # Which way the schedule's since-last-run runs go: zoho_to_xero | xero_to_zoho.
    SYNC_SCHEDULE_DIRECTION: Literal["zoho_to_xero", "xero_to_zoho", "both"] = "zoho_to_xero"
    RUN_BATCH_SIZE: int = Field(default=50, ge=1, le=50)  # Accounts per Xero POST (COQL IN allows 50)
    RUN_OVERLAP_SECONDS: float = Field(
        default=300.0, ge=0, le=86400
    )  # since-last-run looks back this much more
    RUN_STALE_SECONDS: float = Field(
        default=3600.0, ge=60
    )  # a run without progress this long can be replaced
    RUN_MAX_DELAY_SECONDS: float = Field(default=900.0, ge=0, le=900)  # longest single wait on the queue
    # A rate-limited single sync is kept out of sight on the sync queue until the limit's
    # Retry-After, at most this long (SQS allows 12 hours).
    SYNC_MAX_HOLD_SECONDS: float = Field(default=43200.0, ge=0, le=43200)

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def get_settings() -> Settings:
    """Current settings: environment first, then the deployed secret for what is unset."""
    secret_id = os.environ.get("SECRETS_ID", "")
    overlay = _secret_values(secret_id) if secret_id else {}
    missing = {k: v for k, v in overlay.items() if k in SECRET_KEYS and not os.environ.get(k)}
    return _build(tuple(sorted(os.environ.items())), tuple(sorted(missing.items())))


@lru_cache(maxsize=4)
def _build(env: tuple[tuple[str, str], ...], overlay: tuple[tuple[str, str], ...]) -> Settings:
    # Cached on the exact environment, so a changed variable is seen at the next call.
    values: dict[str, Any] = dict(overlay)
    return Settings(**values)


@lru_cache(maxsize=2)
def _secret_values(secret_id: str) -> dict[str, str]:
    import boto3  # only deployed stacks use Secrets Manager

    raw = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    data = json.loads(raw)
    return {str(k): str(v) for k, v in data.items()}
