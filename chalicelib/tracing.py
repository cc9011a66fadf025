"""AWS X-Ray traces through Powertools Tracer: one trace per invocation, a subsegment per
upstream call (Zoho or Xero, with its HTTP status) and per queued message.

The stack turns on Lambda's active tracing, so Lambda opens each invocation's segment; this
module only adds subsegments to it. The X-Ray SDK imports botocore (about 300 ms), so the
tracer is created on the first invocation that needs it, never at import: the API handler's
cold start stays within its goal (README, Benchmarks).

Tracing is off unless the code runs in Lambda (`LAMBDA_TASK_ROOT`) and `POWERTOOLS_TRACE_DISABLED`
is not true, the same rule Powertools applies. Off, every function here is a no-op that imports
nothing: `make run` and the tests run our code unchanged. `use()` hands in a tracer whose
recorder writes somewhere else (tests/unit/core/test_tracing.py keeps the segments in memory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.observability import SERVICE

DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"
_state: dict[str, Any] = {}


def enabled() -> bool:
    if "tracer" in _state:
        return _state["tracer"] is not None
    disabled = os.environ.get(DISABLED_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


def tracer() -> Any | None:
    """The process's Powertools Tracer, created on first use; None while tracing is off."""
    if "tracer" not in _state:
        if not enabled():
            return None
        from aws_lambda_powertools import Tracer

        # Our subsegments name the upstream call; boto3's calls to DynamoDB and SQS are
        # patched so the time they take shows in the trace too.
        active = Tracer(service=SERVICE, auto_patch=False)
        active.patch(["botocore"])
        _state["tracer"] = active
    return _state["tracer"]


def use(active: Any | None) -> None:
    """Trace through `active` from now on (None: tracing off); `reset()` goes back to the rule."""
    _state["tracer"] = active


def reset() -> None:
    _state.clear()


@contextmanager
def subsegment(name: str, **annotations: str | int | float | bool | None) -> Iterator[Any | None]:
    """A subsegment of the current trace with searchable annotations; yields None when off."""
    active = tracer()
    if active is None:
        yield None
        return
    with active.provider.in_subsegment(name=name) as current:
        # None when there is no segment to hang it on (e.g. a thread the trace did not start).
        if current is not None:
            for key, value in annotations.items():
                if value is not None:
                    current.put_annotation(key, value)
        yield current


@contextmanager
def upstream_call(service: str, method: str, path: str) -> Iterator[Callable[[int], None]]:
    """Around one HTTP request to Zoho or Xero; call the yielded function with the status.

    Named after the service, not the path (record ids would make every call its own node in
    X-Ray's service map); the method and path are in the subsegment's HTTP data."""
    with subsegment(service, operation=f"{method} {path}") as current:
        if current is None:
            yield _ignore
            return
        current.namespace = "remote"
        current.put_http_meta("method", method)
        current.put_http_meta("url", path)

        def status(code: int) -> None:
            current.put_http_meta("status", code)  # also flags 429 throttle, 4xx error, 5xx fault
            current.put_annotation("status", code)

        yield status


def _ignore(_: int) -> None:
    return None


def trace_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every handler: a `## <handler>` subsegment, annotated like
    Powertools' `capture_lambda_handler` (ColdStart, Service) plus the handler's name."""
    active = tracer()
    if active is None:
        return get_response(event)
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    handler = str(getattr(context, "function_name", "") or "handler").rsplit("-", 1)[-1]
    cold = _state.setdefault("cold_start", True)
    _state["cold_start"] = False
    with subsegment(f"## {handler}", handler=handler, ColdStart=cold, Service=SERVICE):
        return get_response(event)
