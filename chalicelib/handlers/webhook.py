"""POST /webhooks/zoho: the Sync to Xero button and Zoho workflow rules."""

from __future__ import annotations

from typing import Any

from chalice.app import Request, Response

from chalicelib.observability import logger

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
UNEXPECTED = (
    "Something went wrong on our side and the Account was not synced. Please try again in a few "
    "minutes; if it keeps happening, contact support with the time of the click."
)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": JSON})


def _body(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def guard(request: Request, services: Any) -> Response | None:
    """The one webhook guard: None lets the request in; else the refusal to send back."""
    from chalicelib.json_input import BodyTooLargeError, check_size
    from chalicelib.webhook_auth import refusal

    raw = _body(request)
    try:
        check_size(raw)
    except BodyTooLargeError as error:
        return _json(413, {"status": "error", "message": error.message})
    refused = refusal(
        raw,
        request.headers,
        services.settings.secret("WEBHOOK_TOKEN"),
        max_age_seconds=services.settings.WEBHOOK_MAX_AGE_SECONDS,
    )
    if refused is None:
        return None
    logger.warning("webhook refused", extra={"reason": refused})
    return _json(401, {"status": "error", "message": refused})


def zoho_webhook(request: Request) -> Response:
    from chalicelib.errors import InvalidRequestError
    from chalicelib.services.webhook import handle_webhook
    from chalicelib.services.webhook_parsing import parse_webhook
    from chalicelib.wiring import container

    services = container()
    refused = guard(request, services)
    if refused is not None:
        return refused
    try:
        webhook = parse_webhook(_body(request), request.headers.get("content-type", JSON))
    except InvalidRequestError as error:
        return _json(400, {"status": "error", "message": error.message})
    try:
        answer = handle_webhook(
            webhook,
            services.syncer,
            services.queue,
            services.settings.BUTTON_BUDGET_SECONDS,
            coalescing=services.coalescing,
        )
    except Exception:
        logger.exception("webhook failed unexpectedly")
        return _json(500, {"status": "failed", "message": UNEXPECTED})
    return _json(answer.status_code, answer.body)
