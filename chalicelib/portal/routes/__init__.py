"""Portal routes; importing this package registers them all on the Blueprint."""

from chalicelib.portal.routes import accounts, auth, conflicts, connect, home, runs, settings, static

__all__ = ["accounts", "auth", "conflicts", "connect", "home", "runs", "settings", "static"]
