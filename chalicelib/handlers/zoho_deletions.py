"""Every minute: Accounts deleted in Zoho CRM since the last poll → their Xero contacts archived
(services/zoho_deletions.py; off with ARCHIVE_ON_ZOHO_DELETE=false). Zoho is read only every
ZOHO_DELETIONS_POLL_MINUTES: each read costs a Zoho API credit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.errors import SyncError
from chalicelib.observability import logger


def poll_zoho_deletions(context: Any = None) -> dict[str, Any]:
    from chalicelib.settings import get_settings
    from chalicelib.wiring import container, lambda_deadline

    every = timedelta(minutes=get_settings().ZOHO_DELETIONS_POLL_MINUTES)
    try:
        sweep = container().zoho_deletions.poll(lambda_deadline(context, fallback=50.0), every)
    except SyncError as error:  # not connected, a fault: said in the log; the next minute tries again
        logger.warning("zoho deletions not read", extra={"reason": error.message})
        return {"status": "failed", "message": error.message}
    if sweep.archived or sweep.refused:
        logger.info(
            "zoho deletions handled",
            extra={"archived": len(sweep.archived), "refused": len(sweep.refused), "status": sweep.status},
        )
    return {"status": sweep.status, "seen": sweep.seen, "archived": len(sweep.archived)}
