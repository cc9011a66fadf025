"""Structured JSON logs (Powertools Logger) with a correlation id per request or message."""

from __future__ import annotations

from aws_lambda_powertools import Logger

SERVICE = "zoho-xero-sync"

# Chalice is created with configure_logs=False, so this is the only handler on the
# root "zoho-xero-sync" logger; child loggers (chalicelib.*) propagate to the root
# logger, which Powertools' `copy_config_to_registered_loggers` wires up below.
logger = Logger(service=SERVICE)


def wire_library_loggers() -> None:
    """Send our modules' stdlib loggers through the same JSON formatter."""
    from aws_lambda_powertools.logging import utils

    utils.copy_config_to_registered_loggers(source_logger=logger, include={"chalicelib"})
