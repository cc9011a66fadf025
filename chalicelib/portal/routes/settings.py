"""Settings: the active field map (read-only), the schedule, the run summary e-mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalice.app import Response

from chalicelib.portal import web
from chalicelib.portal.routes.home import schedule_hours
from chalicelib.portal.web import FORM, PortalRequest, portal

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
SCOPE_WORDS = {"account": "Account", "primary": "Primary contact", "contact": "Each other contact"}


@dataclass(frozen=True)
class MapRow:
    xero: str  # Xero field path
    zoho: str  # where the value comes from, in words
    notes: str  # required / default / lookup
    direction: str = ""  # which way the value flows, in words


@portal.route("/settings", methods=["GET"])
@web.page()
def settings_page(ctx: PortalRequest) -> Response:
    current = ctx.services.portal_settings.get()
    return _page(ctx, "\n".join(current.summary_recipients), current.summary_only_problems)


@portal.route("/settings/notifications", methods=["POST"], content_types=[FORM])
@web.page()
def save_notifications(ctx: PortalRequest) -> Response:
    from chalicelib.models.portal import PortalSettings
    from chalicelib.store.portal_settings import MAX_RECIPIENTS

    raw = ctx.form.get("recipients", "")
    only_problems = ctx.form.get("only_problems") in ("1", "on", "true")
    recipients = [r for r in re.split(r"[\s,;]+", raw) if r]
    bad = [r for r in recipients if not EMAIL.match(r)]
    if bad:
        return _page(
            ctx,
            raw,
            only_problems,
            error=f"These are not e-mail addresses: {', '.join(bad[:5])}.",
            status=400,
        )
    unique = list(dict.fromkeys(r.lower() for r in recipients))
    if len(unique) > MAX_RECIPIENTS:
        return _page(ctx, raw, only_problems, error=f"Enter at most {MAX_RECIPIENTS} addresses.", status=400)
    ctx.services.portal_settings.save(
        PortalSettings(summary_recipients=unique, summary_only_problems=only_problems)
    )
    return ctx.redirect("/settings", notice="settings-saved")


def _page(
    ctx: PortalRequest, recipients: str, only_problems: bool, error: str | None = None, status: int = 200
) -> Response:
    from chalicelib.mapping import resolve_map_path

    settings = ctx.settings
    path = resolve_map_path(settings.MAPPING_FILE or None)
    map_error, rows, yaml_text = None, [], ""
    try:
        yaml_text = path.read_text(encoding="utf-8")
        rows = map_rows(ctx.services.field_map())
    except Exception as problem:
        map_error = getattr(problem, "message", None) or f"The field map {path.name} cannot be read."
    return ctx.render(
        "settings.html",
        status=status,
        error=error,
        recipients=recipients,
        only_problems=only_problems,
        sender=settings.SUMMARY_EMAIL_FROM,
        schedule_hours=schedule_hours(settings),
        sync_mode=settings.SYNC_MODE,
        conflict_policy=settings.CONFLICT_POLICY,
        map_name=path.name,
        map_rows=rows,
        map_yaml=yaml_text,
        map_error=map_error,
        active="settings",
    )


def map_rows(field_map: Any) -> list[MapRow]:
    """The Xero contact, field by field, with where each value comes from."""
    rows: list[MapRow] = []
    _walk(field_map.xero_contact, "", rows)
    return rows


def _walk(node: Any, path: str, rows: list[MapRow]) -> None:
    from chalicelib.mapping.fieldmap import ListSpec, ObjectSpec, RepeatSpec, ValueSpec

    if isinstance(node, ObjectSpec):
        for name, child in node.fields.items():
            _walk(child, f"{path} › {name}" if path else name, rows)
    elif isinstance(node, ListSpec):
        for index, item in enumerate(node.items, start=1):
            _walk(item, f"{path} {_item_name(item, index)}", rows)
    elif isinstance(node, RepeatSpec):
        _walk(node.item, f"{path} (each other contact, up to {node.max_items})", rows)
    elif isinstance(node, ValueSpec):
        rows.append(MapRow(path, _source(node), _notes(node), _direction(node)))


def _item_name(item: Any, index: int) -> str:
    for key in ("PhoneType", "AddressType"):
        spec = item.fields.get(key)
        if spec is not None and getattr(spec, "constant", None):
            return f"({spec.constant})"
    return str(index)


def _source(spec: Any) -> str:
    if spec.source is None:
        return f"fixed: {spec.constant}"
    return f"{SCOPE_WORDS.get(spec.source.scope, spec.source.scope)} › {spec.source.field}"


DIRECTION_WORDS = {
    "to_xero": "Zoho → Xero",
    "to_zoho": "Xero → Zoho",
    "both": "both ways",
}


def _direction(spec: Any) -> str:
    if spec.source is None:
        return ""
    direction: str = spec.direction
    return DIRECTION_WORDS.get(direction, direction)


def _notes(spec: Any) -> str:
    notes = []
    if spec.required:
        notes.append("required")
    if spec.default is not None:
        notes.append(f"default {spec.default}")
    if spec.lookup_labels:
        notes.append(f"one of: {', '.join(spec.lookup_labels)}")
    return "; ".join(notes)
