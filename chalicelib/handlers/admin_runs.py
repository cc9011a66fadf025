"""Admin API for bulk runs: `/sync/runs` (Authorization: Bearer <ADMIN_TOKEN>)."""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Blueprint, Request, Response
from pydantic import ValidationError

admin_runs = Blueprint(__name__)

JSON = "application/json"
MAX_PAGE = 100
# Our run ids (e.g. 20260301-101500-ab12cd34); anything else is no run, and never becomes a
# DynamoDB key (over 2 KB a key is a ValidationException, i.e. a 500).
RUN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": JSON, **(headers or {})})


def _error(status: int, message: str, **extra: Any) -> Response:
    return _json(status, {"status": "error", "message": message, **extra})


def _services() -> Any:
    from chalicelib.wiring import container

    return container()


def _authorised() -> bool:
    expected = _services().settings.secret("ADMIN_TOKEN")
    header = _header("authorization")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def admin_only(view: Callable[..., Response]) -> Callable[..., Response]:
    """The one admin guard: every route of this blueprint answers 401 without the admin token."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        if not _authorised():
            return _error(401, "Missing or wrong admin token (send Authorization: Bearer <ADMIN_TOKEN>).")
        return view(*args, **kwargs)

    return guarded


def _request() -> Request:
    request = admin_runs.current_request
    assert request is not None  # Chalice sets it before any route runs
    return request


def _header(name: str) -> str:
    return str(_request().headers.get(name) or "") if _request().headers else ""


def _body() -> bytes:
    raw = _request().raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def _limit(default: int) -> int:
    raw = _param("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def _param(name: str) -> str | None:
    params: Mapping[str, str] = _request().query_params or {}
    return params.get(name)


@admin_runs.route("/sync/runs", methods=["POST"], content_types=[JSON])
@admin_only
def start_run() -> Response:
    from chalicelib.errors import InvalidRequestError
    from chalicelib.json_input import BodyTooLargeError, load_json
    from chalicelib.models.runs import StartRunRequest
    from chalicelib.services.runs import RunInProgressError

    try:
        body = load_json(_body() or b"{}")
        request = StartRunRequest.model_validate(body)
    except BodyTooLargeError as error:
        return _error(413, error.message)
    except InvalidRequestError as error:
        return _error(400, error.message)
    except (ValueError, ValidationError) as error:
        return _error(400, _plain(error))
    try:
        run = _services().runs.start(request, trigger=_trigger())
    except RunInProgressError as busy:
        return _busy(busy.run)
    return _json(202, run.to_public(), {"Location": f"/sync/runs/{run.run_id}"})


@admin_runs.route("/sync/runs", methods=["GET"])
@admin_only
def list_runs() -> Response:
    from chalicelib.store.errors import InvalidCursorError

    try:
        runs, cursor = _services().runs.list(limit=_limit(20), cursor=_param("cursor"))
    except (ValueError, InvalidCursorError) as error:
        return _error(400, str(error))
    return _json(200, {"runs": [r.to_public() for r in runs], "next_cursor": cursor})


@admin_runs.route("/sync/runs/{run_id}", methods=["GET"])
@admin_only
def get_run(run_id: str) -> Response:
    if not RUN_ID.fullmatch(run_id):
        return _no_run(run_id)
    services = _services()
    run = services.runs.get(run_id)
    if run is None:
        return _error(404, f"There is no run {run_id}.")
    problems, cursor = services.runs.accounts(run_id, problems_only=True, limit=50)
    body = run.to_public()
    body["problems"] = [p.to_public() for p in problems]
    body["problems_next_cursor"] = cursor
    body["dead_letters"] = services.runs.dead_letters()
    return _json(200, body)


@admin_runs.route("/sync/runs/{run_id}/problems", methods=["GET"])
@admin_only
def run_problems(run_id: str) -> Response:
    from chalicelib.store.errors import InvalidCursorError

    if not RUN_ID.fullmatch(run_id):
        return _no_run(run_id)
    services = _services()
    if services.runs.get(run_id) is None:
        return _error(404, f"There is no run {run_id}.")
    every = (_param("all") or "").lower() in ("1", "true", "yes")
    try:
        page, cursor = services.runs.accounts(
            run_id, problems_only=not every, limit=_limit(50), cursor=_param("cursor")
        )
    except (ValueError, InvalidCursorError) as error:
        return _error(400, str(error))
    return _json(200, {"accounts": [p.to_public() for p in page], "next_cursor": cursor})


@admin_runs.route("/sync/runs/{run_id}/retry", methods=["POST"], content_types=[JSON])
@admin_only
def retry_run(run_id: str) -> Response:
    from chalicelib.errors import InvalidRequestError
    from chalicelib.services.runs import RunInProgressError, RunNotFoundError

    if not RUN_ID.fullmatch(run_id):
        return _no_run(run_id)
    try:
        dry_run = _retry_dry_run(_body())
    except ValueError as error:
        return _error(400, str(error))
    try:
        run = _services().runs.retry(run_id, trigger=_trigger(), dry_run=dry_run)
    except RunNotFoundError:
        return _error(404, f"There is no run {run_id}.")
    except RunInProgressError as busy:
        return _busy(busy.run)
    except InvalidRequestError as error:
        return _error(400, error.message)
    return _json(202, run.to_public(), {"Location": f"/sync/runs/{run.run_id}"})


def _no_run(run_id: str) -> Response:
    shown = run_id if len(run_id) <= 64 else run_id[:61] + "..."
    return _error(404, f"There is no run {shown}.")


def _busy(run: Any) -> Response:
    return _error(
        409,
        f"Another run ({run.run_id}, started {run.created_at}) is still in progress; only one run at a "
        "time. Wait for it to finish, or follow it at /sync/runs/" + run.run_id + ".",
        run_id=run.run_id,
    )


def _retry_dry_run(raw: bytes | None) -> bool:
    """The retry body is optional: `{}` or `{"dry_run": true}` (a dry run's retry is always dry)."""
    from chalicelib.errors import InvalidRequestError
    from chalicelib.json_input import load_json

    try:
        body = load_json(raw or b"{}")
    except InvalidRequestError as error:
        raise ValueError(error.message) from None
    if (
        not isinstance(body, dict)
        or set(body) - {"dry_run"}
        or not isinstance(body.get("dry_run", False), bool)
    ):
        raise ValueError('A retry takes an empty body or {"dry_run": true}.')
    return bool(body.get("dry_run", False))


def _trigger() -> str:
    """The run's origin: `cli` when our command line asked (it says so in a header), else `api`."""
    from chalicelib.models.runs import RunOrigin

    agent = _header("x-run-trigger")
    return RunOrigin.CLI if agent == "cli" else RunOrigin.API


def _plain(error: Exception) -> str:
    from chalicelib.errors import validation_problems

    if isinstance(error, ValidationError):
        parts = [
            p.replace("window.DaysWindow.", "window.").replace("window.literal[", "window[")
            for p in validation_problems(error)
        ]
        return (
            'The run request is not valid. Send {"window": "since_last_run" | "all" | {"days": N}} with N '
            'from 1 to 30, and optionally "dry_run": true. Problems: ' + "; ".join(dict.fromkeys(parts))
        )
    return "The request body must be JSON."
