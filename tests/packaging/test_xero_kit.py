"""The Xero setup guide (docs/xero-setup.md) and the connect command agree with the code."""

from __future__ import annotations

import argparse
import re

import yaml

from chalicelib.cli import connect as cli
from chalicelib.services.connect import XERO_SCOPES
from chalicelib.settings import SECRET_KEYS, Settings
from deploy.package import ROOT
from sandbox.xero.app import ROUTES

GUIDE = (ROOT / "docs" / "xero-setup.md").read_text()
ZOHO_GUIDE = (ROOT / "docs" / "zoho-setup.md").read_text()
REDIRECT_URI = f"http://localhost:{cli.DEFAULT_PORT}{cli.CALLBACK_PATH}"
# The Xero calls the service makes (chalicelib/xero/client.py), by the stand-in's route names.
SERVICE_ROUTES = {"organisation", "get_contacts", "get_contact", "post_contacts"}


def test_the_guide_asks_for_exactly_the_scopes_the_connect_flow_requests() -> None:
    assert " ".join(XERO_SCOPES) in GUIDE
    for scope in XERO_SCOPES:
        assert f"- `{scope}`" in GUIDE  # each one explained


def test_the_scopes_cover_every_xero_call_the_service_makes() -> None:
    # The stand-in lists which scopes Xero accepts for each endpoint (GET /Organisation
    # needs accounting.settings or accounting.settings.read).
    for route in ROUTES:
        if route.handler in SERVICE_ROUTES:
            assert set(route.scopes) & set(XERO_SCOPES), route.template


def test_both_guides_give_the_redirect_uri_the_connect_command_listens_on() -> None:
    assert REDIRECT_URI in GUIDE
    assert REDIRECT_URI in ZOHO_GUIDE


def test_the_options_the_guides_mention_exist() -> None:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    mentioned = set(re.findall(r"connect (?:xero|zoho)[^`\n]*?(--[a-z-]+)", GUIDE + ZOHO_GUIDE))
    mentioned |= set(re.findall(r"`(--[a-z-]+)", GUIDE + ZOHO_GUIDE))
    assert mentioned
    for option in mentioned:
        args = parser.parse_args(
            ["connect", "xero", option, "x"] if option != "--no-browser" else ["connect", "xero", option]
        )
        assert args.command == "connect"


def test_the_secret_table_lists_every_key_the_service_reads_from_the_secret() -> None:
    section = GUIDE.split("### Filling in the secret", 1)[1].split("## ", 1)[0]
    documented = set(re.findall(r"`([A-Z_]+)`", section))
    assert set(SECRET_KEYS) <= documented


def test_the_day_limit_the_guide_describes_is_the_stacks_default() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / ".chalice" / "merge-template.yaml").read_text(), Loader=Loader)
    default = template["Parameters"]["XeroDayLimit"]["Default"]
    assert default == 1000
    assert "XERO_DAY_LIMIT" in template["Globals"]["Function"]["Environment"]["Variables"]
    assert "XERO_DAY_LIMIT" in Settings.model_fields
    assert "1,000 on the Starter tier" in GUIDE and f"is {default} by default" in GUIDE


def test_the_portal_redirect_uris_in_the_guides_are_portal_routes() -> None:
    from app import app

    for provider, guide in (("xero", GUIDE), ("zoho", ZOHO_GUIDE)):
        path = f"/portal/connect/{provider}/callback"
        assert f"/api{path}`" in guide
        assert "GET" in app.routes["/portal/connect/{provider}/callback"]
