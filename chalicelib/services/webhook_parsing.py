"""Turn a webhook body (JSON or form-encoded) into a validated WebhookRequest."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from chalicelib.errors import InvalidRequestError, validation_problems
from chalicelib.json_input import load_json
from chalicelib.models.webhook import WebhookRequest


def parse_webhook(raw_body: bytes, content_type: str) -> WebhookRequest:
    data = _decode(raw_body, content_type)
    try:
        return WebhookRequest.model_validate(data)
    except ValidationError as error:
        raise InvalidRequestError(_explain(error)) from None


def _decode(raw_body: bytes, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not valid UTF-8 text.") from None
    if kind == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    data = load_json(text or "null")
    if not isinstance(data, dict):
        raise InvalidRequestError('The request body must be a JSON object such as {"account_id": "…"}.')
    return data


def _explain(error: ValidationError) -> str:
    return "Invalid webhook: " + "; ".join(validation_problems(error))
