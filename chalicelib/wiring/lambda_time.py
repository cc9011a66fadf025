"""How long a Lambda handler may keep working."""

from __future__ import annotations

import os
from typing import Any

from chalicelib.deadline import Deadline


def lambda_deadline(context: Any, margin: float = 10.0, fallback: float = 50.0) -> Deadline:
    """The time left in this Lambda invocation, less a margin to record results.

    The context is Lambda's (or None when run locally or in tests): fall back to WORKER_BUDGET_SECONDS.
    """
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        value = remaining_ms()
        if isinstance(value, int | float) and value > 0:
            return Deadline(max(1.0, value / 1000 - margin))
    return Deadline(float(os.environ.get("WORKER_BUDGET_SECONDS", fallback)))
