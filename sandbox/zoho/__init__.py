"""Zoho CRM v8 stand-in (records, related lists, COQL, OAuth, workflow webhooks, the button).

See README.md in this folder for what is faithful to Zoho and what is not.
"""

from .app import ZohoSandbox
from .config import ZohoSandboxConfig

__all__ = ["ZohoSandbox", "ZohoSandboxConfig"]
