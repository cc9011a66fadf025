"""POST /webhooks/xero: Xero's contact events (Xero → Zoho CRM).

Xero's rules: 200 with an empty body when the signature matches, 401 with an empty body
when it does not (its "intent to receive" check sends both kinds before it enables the
webhook), within 5 seconds. So nothing is processed here: the events are queued and the
sync worker does the work (services/xero_inbound/).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Request, Response

from chalicelib.observability import logger

# Xero batches events; each is about 400 bytes. API Gateway itself stops at 10 MB.
MAX_BYTES = 1024 * 1024


def _empty(status: int) -> Response:
    return Response(body="", status_code=status, headers={"Content-Type": "text/plain"})


def xero_webhook(request: Request) -> Response:
    from chalicelib.errors import InvalidRequestError
    from chalicelib.json_input import load_json
    from chalicelib.wiring import container
    from chalicelib.xero.webhooks import contact_events, is_signed
    from chalicelib.xero_queue import XeroContactMessage, enqueue_contacts

    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > MAX_BYTES:
        return _empty(413)
    services = container()
    if not is_signed(raw, request.headers, services.settings.secret("XERO_WEBHOOK_KEY")):
        logger.warning("xero webhook refused", extra={"reason": "missing or wrong x-xero-signature"})
        return _empty(401)
    try:
        payload = load_json(raw, max_bytes=MAX_BYTES)
    except InvalidRequestError as error:
        logger.warning("xero webhook unreadable", extra={"reason": error.message})
        return _empty(400)
    events = contact_events(payload, _tenants(services))
    if events:
        queued = enqueue_contacts(
            services.sqs, services.queue_url, [XeroContactMessage.from_event(e) for e in events]
        )
        logger.info("xero events queued", extra={"events": len(events), "queued": queued})
    return _empty(200)


def _tenants(services: Any) -> list[str] | None:
    """The organisation we sync, when known without a network call (else the worker filters)."""
    if services.settings.XERO_TENANT_ID:
        return [services.settings.XERO_TENANT_ID]
    stored = services.tokens.get("xero")
    return [stored.tenant_id] if stored is not None and stored.tenant_id else None
