"""Structured JSON logs (Powertools Logger) with a correlation id per request or message."""

from __future__ import annotations

from aws_lambda_powertools import Logger

SERVICE = "zoho-xero-sync"

# Chalice is created with configure_logs=False, so this is the only handler on the
# "zoho-xero-sync" logger; `wire_library_loggers` gives chalicelib.* the same handler.
logger = Logger(service=SERVICE)


def wire_library_loggers() -> None:
    """Send our modules' stdlib loggers (`chalicelib.*`) through the same JSON handler.

    Configured on the `chalicelib` parent, so modules imported later (handlers import
    lazily for cold-start time) are covered too; they propagate to it.
    """
    import logging

    library = logging.getLogger("chalicelib")
    library.handlers = [logger.registered_handler]
    library.setLevel(logger.log_level)
    library.propagate = False
