"""Stand-in for Xero's identity service and Accounting API (Contacts), for tests and demos.

    from sandbox.xero import XeroSandbox
    app = XeroSandbox()          # seeded, rate-limited, default credentials (see README.md)

`app` is a WSGI callable; serve it with sandbox.common.ServerThread or `python -m sandbox.xero`.
"""

from sandbox.xero.app import XeroSandbox
from sandbox.xero.config import TenantConfig, XeroSandboxConfig

__all__ = ["TenantConfig", "XeroSandbox", "XeroSandboxConfig"]
