"""Deleting records, and Zoho CRM v8's list of deleted records (`GET /crm/v8/{module}/deleted`).

Per record.json (operation "Get Deleted Records"): `type` = all (the default) | recycle |
permanent, `page` / `per_page` (at most 200), and the `If-Modified-Since` header (only records
deleted after it). Each entry is a `Deleted_Record`: id, display_name, type, deleted_by,
created_by, deleted_time; `info` has per_page, count, page, more_records. Nothing to list →
204 with no body, as Zoho answers an empty list. A record deleted through the API
(`DELETE /crm/v8/{module}/{id}`) or the sandbox's admin interface goes to the recycle bin
(`type` recycle); the admin interface can also delete it for good (permanent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from .errors import ZohoError, invalid_param
from .metadata import API_USER_ID, DISPLAY_FIELD, user_ref
from .timefmt import format_datetime
from .web import Call, empty_response, json_response

if TYPE_CHECKING:
    from .app import ZohoSandbox
    from .store import Store

TYPES = ("all", "recycle", "permanent")
MAX_PER_PAGE = 200
MAX_KEPT = 10_000  # per module: the stand-in's memory stays bounded however long it runs


def record_deletion(
    store: Store, module: str, record: dict[str, Any], now: float, user_id: str, kind: str
) -> None:
    """Called by Store.delete with the record just removed."""
    kept = store.deleted.setdefault(module, [])
    kept.append(
        {
            "id": record["id"],
            "display_name": store.value(module, record, DISPLAY_FIELD[module]),
            "type": kind,
            "deleted_by": user_id,
            "created_by": record.get("Created_By"),
            "deleted_time": int(now),
        }
    )
    del kept[:-MAX_KEPT]


def delete_record(sb: ZohoSandbox, call: Call, module: str, record_id: str) -> Response:
    """`DELETE /crm/v8/{module}/{id}`: to the recycle bin, as Zoho does."""
    from .api import _module

    module = _module(module)
    if not sb.delete(module, record_id, user_id=API_USER_ID):
        raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1})
    body = {"code": "SUCCESS", "details": {"id": record_id}, "message": "record deleted", "status": "success"}
    return json_response(200, {"data": [body]})


def list_deleted(sb: ZohoSandbox, call: Call, module: str) -> Response:
    from .api import _if_modified_since, _int_param, _module

    module = _module(module)
    kind = call.request.args.get("type", "all")
    if kind not in TYPES:
        raise invalid_param("type")
    page = _int_param(call, "page", 1, 1)
    per_page = _int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    since = _if_modified_since(call)
    with sb.lock:
        rows = [
            row
            for row in reversed(sb.store.deleted.get(module, []))  # the latest deletion first
            if (kind == "all" or row["type"] == kind) and (since is None or row["deleted_time"] > since)
        ]
        offset = sb.store.offset_minutes
    chunk = rows[(page - 1) * per_page : page * per_page]
    if not chunk:
        return empty_response(204)
    info = {
        "per_page": per_page,
        "count": len(chunk),
        "page": page,
        "more_records": len(rows) > page * per_page,
    }
    return json_response(200, {"data": [_render(row, offset) for row in chunk], "info": info})


def _render(row: dict[str, Any], offset_minutes: int) -> dict[str, Any]:
    return {
        "deleted_by": user_ref(row["deleted_by"]),
        "id": row["id"],
        "display_name": row["display_name"],
        "type": row["type"],
        "created_by": user_ref(row["created_by"]) if row.get("created_by") else None,
        "deleted_time": format_datetime(row["deleted_time"], offset_minutes),
    }
