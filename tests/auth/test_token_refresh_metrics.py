"""A failed token refresh is counted (the "token refresh failing" alarm), a good one is not."""

from __future__ import annotations

import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from tests.auth.test_xero_token_rotation import manager, tokens
from tests.emf import documents, metrics_on, values

__all__ = ["metrics_on", "tokens"]


def test_a_refused_refresh_counts_a_failure(
    xero_sandbox, tokens, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib import metrics

    m = manager(xero_sandbox, tokens)
    m.current(Deadline(10))
    stale = tokens.get("xero")
    assert stale is not None
    m.refresh(Deadline(10), rejected_access_token=stale.access_token)  # rotates: `stale` is now old
    xero_sandbox.app.clock.advance(2 * 60 * 60)  # past Xero's grace window for the old token
    stale.expires_at = 0
    tokens.replace(stale)
    metrics.flush()
    assert values(documents(capsys.readouterr().out), "XeroTokenRefreshFailures") == []

    with pytest.raises(FatalError):
        manager(xero_sandbox, tokens).current(Deadline(10))
    metrics.flush()

    assert values(documents(capsys.readouterr().out), "XeroTokenRefreshFailures") == [1]
