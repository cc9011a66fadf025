"""Zoho CRM v8 contract checks built on Zoho's official OpenAPI files (vendored in ./zoho).

Stable helpers that the stand-in, its tests and the app's own contract tests share:

    request_errors(method, path, body, *, allow_numeric_ids=False) -> list[str]  ([] = it fits)
    response_errors(method, path, status, body) -> list[str]   ([] = the answer fits the spec)

`path` may be the spec's template (``/crm/v8/{module_api_name}``) or a concrete path
(``/crm/v8/Accounts``, ``/crm/v8/Accounts/5725767000000400001/Contacts``); a concrete path is
matched to the most specific template. `body` is the parsed JSON (dict/list), raw bytes/str, or
None for an empty body. Each message names a JSON path, e.g. ``$.trigger[0]: 'wrkflow' is not one
of [...]``.

How the official files are read (and why):

* Cross-file ``$ref``s point at raw.githubusercontent.com; a `referencing` registry maps that
  prefix to the local copies, because tests run offline.
* OAS 3.0 ``nullable: true`` becomes ``type: [T, "null"]`` so JSON Schema understands it.
* ``oneOf`` is read as ``anyOf``. Zoho's alternatives overlap (``API_Exception`` has no required
  keys, so it matches almost anything), so a strict oneOf rejects every real Zoho answer.
  To keep that looseness from hiding mistakes, a response's top-level alternatives are picked by
  the body's own ``"status"``: an error body (``"status": "error"``) is checked only against the
  ``*Exception`` schemas, any other body only against the rest.
* A status the operation does not list (Zoho documents little beyond 200/400) is checked against
  Zoho's generic error envelope ``{"code","details","message","status":"error"}`` when >= 400,
  and must carry no body when it is 204 or 304. A 207 (some records failed) or a 400 whose body
  is a ``data`` array of per-record results is checked against the documented 200 schema.
* Beyond the OAS, request bodies for the record write endpoints must use only the ``trigger``
  values Zoho documents: workflow, approval, blueprint, pathfinder, orchestration.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

SPEC_DIR = Path(__file__).with_name("zoho")
RAW_PREFIX = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
# Files that hold the operations we check; the others only hold shared schemas.
OPERATION_FILES = ("coql.json", "related_records.json", "record.json")
TRIGGER_VALUES = ("workflow", "approval", "blueprint", "pathfinder", "orchestration")
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["code", "details", "message", "status"],
    "properties": {
        "code": {"type": "string"},
        "details": {"type": "object"},
        "message": {"type": "string"},
        "status": {"const": "error"},
    },
}


@dataclass(frozen=True)
class Operation:
    file: str
    template: str
    method: str
    spec: dict[str, Any]

    def pointer(self, *parts: str) -> str:
        """URI of a JSON pointer inside this operation's definition."""
        segments = ["paths", self.template, self.method, *parts]
        escaped = "/".join(s.replace("~", "~0").replace("/", "~1") for s in segments)
        return f"{RAW_PREFIX}{self.file}#/{escaped}"


def _normalise(node: Any) -> Any:
    """OAS 3.0 -> JSON Schema: nullable becomes a null type, oneOf becomes anyOf."""
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {("anyOf" if key == "oneOf" else key): _normalise(value) for key, value in node.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """Every vendored spec file, normalised, keyed by file name."""
    return {path.name: _normalise(json.loads(path.read_text())) for path in sorted(SPEC_DIR.glob("*.json"))}


def _retrieve(uri: str) -> Resource:
    name = uri.removeprefix(RAW_PREFIX)
    if name not in documents():
        raise NoSuchResource(ref=f"{uri} (not vendored in {SPEC_DIR}; see SOURCE.md)")
    return Resource.from_contents(documents()[name], default_specification=DRAFT7)


@functools.cache
def registry() -> Registry:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


@functools.cache
def _validator(uri: str) -> Draft7Validator:
    return Draft7Validator({"$ref": uri}, registry=registry(), format_checker=FormatChecker())


def _resolve(uri: str) -> Any:
    return registry().resolver().lookup(uri).contents


def _segments(path: str) -> list[str]:
    return [s for s in path.split("?")[0].split("/") if s]


def _template_score(template: str, path: str) -> int | None:
    """Number of literal segments shared, or None when the template cannot match the path."""
    want, have = _segments(template), _segments(path)
    if len(want) != len(have):
        return None
    score = 0
    for part, value in zip(want, have, strict=True):
        if part.startswith("{") and part.endswith("}"):
            continue
        if part != value:
            return None
        score += 1
    return score


def find_operation(method: str, path: str) -> Operation | None:
    """The spec operation for a method and a template or concrete path (most literal match wins)."""
    method = method.lower()
    best: tuple[int, Operation] | None = None
    for file in OPERATION_FILES:
        for template, item in documents()[file].get("paths", {}).items():
            if method not in item:
                continue
            score = len(_segments(template)) + 1 if template == path else _template_score(template, path)
            if score is not None and (best is None or score > best[0]):
                best = (score, Operation(file, template, method, item[method]))
    return best[1] if best else None


def _json_path(error: ValidationError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _messages(validator: Draft7Validator, instance: Any) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        detail = error
        while detail.context:  # descend anyOf branches to the most telling leaf
            detail = best_match(detail.context)
        out.append(f"{_json_path(detail)}: {detail.message}")
    return out


def _parse(body: Any) -> tuple[Any, list[str]]:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        if not body.strip():
            return None, []
        try:
            return json.loads(body), []
        except ValueError as exc:
            return None, [f"$: body is not valid JSON ({exc})"]
    return body, []


def _trigger_errors(operation: Operation, body: Any) -> list[str]:
    """Zoho's documented trigger values (the OAS only says 'array of strings')."""
    if operation.file != "record.json" or not isinstance(body, dict):
        return []
    trigger = body.get("trigger")
    if not isinstance(trigger, list):
        return []
    return [
        f"$.trigger[{i}]: {value!r} is not one of {list(TRIGGER_VALUES)}"
        for i, value in enumerate(trigger)
        if isinstance(value, str) and value not in TRIGGER_VALUES
    ]


def _ids_as_strings(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return body
    data = [
        {**item, "id": str(item["id"])}
        if isinstance(item, dict) and isinstance(item.get("id"), int)
        else item
        for item in body["data"]
    ]
    return {**body, "data": data}


def request_errors(
    method: str, path_template: str, body: Any, *, allow_numeric_ids: bool = False
) -> list[str]:
    """Ways a request body breaks the official spec (plus Zoho's documented trigger values).

    The spec types record ids as strings, but Zoho's own SDK sends them as JSON numbers and Zoho
    accepts that; `allow_numeric_ids=True` (what the stand-in uses) lets such ids pass.
    """
    operation = find_operation(method, path_template)
    if operation is None:
        return [f"no operation {method.upper()} {path_template} in the vendored Zoho spec"]
    parsed, errors = _parse(body)
    if errors:
        return errors
    if allow_numeric_ids:
        parsed = _ids_as_strings(parsed)
    request_body = operation.spec.get("requestBody")
    if request_body is None:
        return [] if parsed is None else ["$: this operation takes no request body"]
    if parsed is None:
        return ["$: a request body is required"] if request_body.get("required") else []
    if "application/json" not in request_body.get("content", {}):
        return []
    validator = _validator(operation.pointer("requestBody", "content", "application/json", "schema"))
    return _messages(validator, parsed) + _trigger_errors(operation, parsed)


def _is_error_body(body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == "error"


def _ref_name(alternative: Any) -> str:
    ref = alternative.get("$ref", "") if isinstance(alternative, dict) else ""
    return ref.rsplit("/", 1)[-1]


def _alternative_is_exception(alternative: Any) -> bool:
    return _ref_name(alternative).endswith("Exception")


def _response_validator(operation: Operation, status: str, body: Any) -> Draft7Validator:
    """Validator for a documented response, alternatives picked by the body's own status."""
    uri = operation.pointer("responses", status, "content", "application/json", "schema")
    schema = _resolve(uri)
    alternatives = schema.get("anyOf") if isinstance(schema, dict) else None
    if not alternatives:
        return _validator(uri)
    wanted = _is_error_body(body)
    # A parsed JSON body is never a file download, so File_Body_Wrapper (no required keys) is out.
    candidates = [alt for alt in alternatives if _ref_name(alt) != "File_Body_Wrapper"]
    picked = [alt for alt in candidates if _alternative_is_exception(alt) == wanted] or candidates
    # Relative refs inside the picked alternatives must still point into the operation's file.
    anchored = _absolute_refs(picked, f"{RAW_PREFIX}{operation.file}")
    return Draft7Validator({"anyOf": anchored}, registry=registry(), format_checker=FormatChecker())


def _absolute_refs(node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_absolute_refs(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _absolute_refs(value, base) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        out["$ref"] = base + ref
    return out


def _is_per_record_answer(status: int, body: Any) -> bool:
    return status in (207, 400) and isinstance(body, dict) and isinstance(body.get("data"), list)


def response_errors(method: str, path_template: str, status: int, body: Any) -> list[str]:
    """Ways a response breaks the official spec (see the module docstring for the reading rules)."""
    operation = find_operation(method, path_template)
    if operation is None:
        return [f"no operation {method.upper()} {path_template} in the vendored Zoho spec"]
    parsed, errors = _parse(body)
    if errors:
        return errors
    if status in (204, 304):
        return [] if parsed is None else [f"$: a {status} answer must have no body"]
    documented = operation.spec.get("responses", {})
    key = str(status)
    if key not in documented and _is_per_record_answer(status, parsed) and "200" in documented:
        key = "200"  # a batch's partial (207) or total (400) failure keeps the 200 shape
    if key not in documented:
        if status >= 400:
            return _messages(Draft7Validator(ERROR_ENVELOPE), parsed)
        return [f"status {status} is not documented for {method.upper()} {operation.template}"]
    if "application/json" not in documented[key].get("content", {}):
        return [] if parsed is None else [f"$: status {status} is documented without a JSON body"]
    if parsed is None:
        return [f"$: status {status} needs a JSON body"]
    return _messages(_response_validator(operation, key, parsed), parsed)
