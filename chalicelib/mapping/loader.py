"""Finding, reading and caching the field map (`mappings/xero_contact.yaml`).

`load_field_map(path=None)` looks for the map in this order and uses the first that
applies:

1. `path`, when given;
2. the `MAPPING_FILE` environment variable (read at every call, see Settings.MAPPING_FILE);
3. `chalicelib/mapping/maps/xero_contact.yaml`, the copy inside the Lambda package (a
   file symlink to the repo's map: Chalice packages only app.py, chalicelib/ and
   vendor/, and it dereferences symlinked files);
4. `mappings/xero_contact.yaml` at the top of the repository.

An explicit path or `MAPPING_FILE` that does not exist is an error rather than a silent
fall-back, so a typo in the setting cannot quietly sync with the wrong map. A parsed
map is cached per file path and modification time: an edited file is read again.

Attributes of the returned `FieldMap` (all Zoho API names are `str`):

- `account_name_field`, `add_to_xero_field`: Account control fields.
- `contact_account_field` (the Contact's lookup to its Account), `primary_contact_field`,
  `include_in_emails_field`, `first_name_field`, `last_name_field`: Contact control fields.
- `writeback`: what the service writes back on the Account, as `.xero_id`,
  `.contact_url`, `.status`, `.last_synced`, `.error` (field names) and
  `.error_max_length`; `writeback.names()` lists the five names.
- `account_fields()`, `contact_fields()`: every API name to request from Zoho
  (`fields=` parameter, COQL select), including `id`, control and write-back fields.
- `label(key)`: the label of a control field for messages, by its YAML key
  ("add_to_xero", "primary_contact", …).
- `xero_contact`: the parsed tree used by `chalicelib.mapping.transform`.
- `version`, `origin` (the file it came from).

Errors: `FieldMapError` (a `FatalError`) names the file and the bad key.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from chalicelib.mapping.fieldmap import FieldMap
from chalicelib.mapping.parser import FieldMapError, parse_field_map

MAP_NAME = "xero_contact.yaml"
BUNDLED_MAP = Path(__file__).resolve().parent / "maps" / MAP_NAME
# parents: mapping -> chalicelib -> repository root. Absent inside the Lambda package.
REPO_MAP = Path(__file__).resolve().parents[2] / "mappings" / MAP_NAME
ENV_VAR = "MAPPING_FILE"


def load_field_map(path: str | None = None) -> FieldMap:
    """The field map from the first location that applies (see the module docstring)."""
    chosen = resolve_map_path(path)
    try:
        stat = chosen.stat()
    except OSError as exc:
        raise FieldMapError(f"The field map {chosen} cannot be read: {exc.strerror}") from None
    return _load_cached(str(chosen), stat.st_mtime_ns, stat.st_size)


def resolve_map_path(path: str | None = None) -> Path:
    """Which file `load_field_map(path)` would read."""
    if path:
        return Path(path)
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return Path(configured)
    # Path.exists() follows the symlink, so a dangling link falls through to the repo copy.
    return BUNDLED_MAP if BUNDLED_MAP.exists() else REPO_MAP


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> FieldMap:
    # mtime and size are part of the cache key only, so an edited file is parsed again.
    return parse_field_map(_read_yaml(Path(path)), origin=path)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FieldMapError(f"The field map {path} cannot be read: {exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FieldMapError(f"{path} is not a valid field map: {_yaml_problem(exc)}") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses repeated keys.

    Plain YAML keeps the last of two `EmailAddress:` lines without a word; in a file
    people edit by hand that hides mistakes.
    """


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
