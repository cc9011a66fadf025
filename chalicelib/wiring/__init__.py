"""Composition root: builds clients, repositories and services from settings.

Built lazily on first use and cached per settings value, so nothing touches
the network or reads the environment at import time, and a changed
environment (tests, local runs) gets a fresh container.

One module per layer, each building on the one before it:
base (settings, field map, rate limits) → aws (boto3 clients, queues) →
repositories (store/) → upstreams (HTTP, OAuth, the Zoho and Xero clients) →
sync (one Account or contact, both directions) → runs (bulk runs) → portal.
"""

from __future__ import annotations

from functools import lru_cache

from chalicelib.settings import Settings, get_settings
from chalicelib.wiring.lambda_time import lambda_deadline
from chalicelib.wiring.portal import PortalServices

__all__ = ["Container", "container", "lambda_deadline"]


class Container(PortalServices):
    """Every provider, from `settings` up to the portal's dashboard."""


def container() -> Container:
    return _container(get_settings())


@lru_cache(maxsize=2)
def _container(settings: Settings) -> Container:
    return Container(settings)
