"""What the local stack prints: quiet by default, everything with VERBOSE=1, never a secret.

Quiet (`make run`): warnings and errors from everything, plus the service's own event lines
(one per sync, run, sign-in...). No access line from moto, the stand-ins or the service, no
line per outgoing HTTP call or queue poll.
Verbose (`make run VERBOSE=1`): every request line of moto, both stand-ins and the service;
every HTTP call the service makes shows as the stand-in's request line.
Each thread keeps its own log keys (`keys_per_thread`): in Lambda one process runs one
invocation at a time, so the keys a handler appends (`handler`, `run_id`, the correlation id)
belong to it; the local stack runs the app, its queue workers and every request side by side
in one process, and without this a line from one thread carried another thread's keys.
Either way, OAuth secrets in URLs (`code`, `state`, tokens, client secrets) are replaced by
`[redacted]` before a line is written: OAuth callbacks and Zoho's token endpoint carry them
in the query string.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any

#: Query parameters whose values never reach a local log.
SECRET_PARAMETERS = (
    "code",
    "state",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "password",
)
_SECRET_QUERY = re.compile(r"([?&](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&\s\"'#]*", re.IGNORECASE)
REDACTED = "[redacted]"

#: Loggers that write one line per request or poll: shown only when verbose.
PER_REQUEST_LOGGERS = ("werkzeug", "sandbox.access", "requests", "botocore", "boto3", "urllib3")


def redact(text: str) -> str:
    return _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with OAuth secrets in URLs redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def is_verbose(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def configure(verbose: bool) -> None:
    """Set up the stack process's logging (call once, before anything is started)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("sandbox").setLevel(logging.INFO)
    for name in PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    # "Connection pool is full, discarding connection": one warning per request once more
    # threads share a boto3 client than its pool holds (never in Lambda: one request at a time).
    logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO if verbose else logging.ERROR)


def guard_handlers(*logger_names: str) -> None:
    """Add the redaction to loggers with handlers of their own (the service's JSON logger)."""
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())


def keys_per_thread(formatter: Any) -> None:
    """Give each thread its own copy of a Powertools formatter's keys (`log_format`), starting
    from the keys it holds now; call before the threads start. Idempotent."""
    cls = type(formatter)
    if getattr(cls, "_keys_per_thread", False):
        return
    base = dict(formatter.log_format)
    local = threading.local()

    def get(self: Any) -> dict[str, Any]:
        keys: dict[str, Any] | None = getattr(local, "keys", None)
        if keys is None:
            keys = local.keys = dict(base)
        return keys

    def set_(self: Any, value: dict[str, Any]) -> None:
        local.keys = value

    per_thread = type(cls.__name__, (cls,), {"log_format": property(get, set_), "_keys_per_thread": True})
    formatter.__class__ = per_thread
    formatter.__dict__.pop("log_format", None)
