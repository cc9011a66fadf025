from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.mapping import FieldMap, load_field_map
from chalicelib.mapping.loader import REPO_MAP


@pytest.fixture(autouse=True)
def _no_mapping_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A MAPPING_FILE in the developer's shell must not change what these tests load.
    monkeypatch.delenv("MAPPING_FILE", raising=False)


@pytest.fixture
def field_map() -> FieldMap:
    return load_field_map(str(REPO_MAP))


@pytest.fixture
def map_text() -> str:
    return Path(REPO_MAP).read_text(encoding="utf-8")
