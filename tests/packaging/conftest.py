"""The deployable package, built once per test session with `deploy.package.build`.

Tests that use the `built` fixture run `chalice package` (a few seconds, needs the
package index, never AWS) and are marked `packaging`: skip them locally with
`pytest -m "not packaging"`. The other tests here read files only.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.package import ROOT, build

STAGE = "dev"


@dataclass
class Package:
    template_path: Path
    zip_path: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def of_type(self, type_name: str) -> dict[str, Any]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == type_name}

    @property
    def functions(self) -> dict[str, Any]:
        return self.of_type("AWS::Serverless::Function")

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.zip_path) as archive:
            return archive.namelist()

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.zip_path) as archive:
            return archive.read(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "packaging: builds the Lambda package with chalice (slow)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "built" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.packaging)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    out = tmp_path_factory.mktemp("package") / STAGE
    template_path = build(STAGE, out, project=ROOT)
    yield Package(
        template_path=template_path,
        zip_path=out / "deployment.zip",
        template=yaml.safe_load(template_path.read_text()),
    )


def unwrap(value: Any) -> Any:
    """A statement list may hold {"Fn::If": [condition, statement, AWS::NoValue]}: the statement."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1]
    return value
