"""Contract tests drive the real app against the stand-ins and check what goes over the wire."""

from tests.integration.conftest import click, client, drain, live, stack  # noqa: F401
