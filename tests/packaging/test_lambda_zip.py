"""What goes into deployment.zip: the code and its runtime dependencies, nothing else."""

from __future__ import annotations

import re

from bench.cold_start import measure
from chalicelib.mapping.loader import BUNDLED_MAP, REPO_MAP
from deploy.package import ROOT
from tests.packaging.conftest import Package

# Development tools and local stand-ins that must never reach Lambda.
NEVER_SHIPPED = (
    "moto",
    "pytest",
    "_pytest",
    "sandbox",
    "tests",
    "bench",
    "deploy",
    "ruff",
    "boto3",
    "botocore",
    "playwright",
    "cfnlint",
    "xero_python",
    "zohocrmsdk",
    # A test-side HTTP client: the service talks HTTP through requests.
    "httpx",
    "httpcore",
)
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct upload; the unzipped limit is 250 MB


def _top_level(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names}


def test_the_field_map_is_shipped_with_its_real_content(built: Package) -> None:
    inside = BUNDLED_MAP.relative_to(ROOT).as_posix()
    assert inside in built.names()
    assert built.read(inside) == REPO_MAP.read_bytes()  # the symlink's target, not a link


def test_the_run_summary_email_templates_are_shipped(built: Package) -> None:
    for name in ("run_summary.txt", "run_summary.html"):
        inside = f"chalicelib/services/templates/{name}"
        assert built.read(inside) == (ROOT / inside).read_bytes()


def test_dev_tools_and_the_sandbox_stay_out(built: Package) -> None:
    shipped = _top_level(built.names())
    assert not shipped & set(NEVER_SHIPPED)
    # Chalice's runtime half only (its router); the CLI, deployer and packager stay out.
    assert sorted(n for n in built.names() if n.startswith("chalice/")) == [
        "chalice/__init__.py",
        "chalice/app.py",
    ]
    assert not [n for n in built.names() if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in built.names() if n.startswith("chalicelib/cli/")]


def test_no_shipped_module_needs_the_operator_command_line(built: Package) -> None:
    for name in built.names():
        if name.startswith("chalicelib/") and name.endswith(".py"):
            source = built.read(name).decode()
            assert not re.search(r"^\s*(from|import) chalicelib\.cli\b", source, re.MULTILINE), name


def test_every_runtime_requirement_is_shipped(built: Package) -> None:
    shipped = {n.lower() for n in _top_level(built.names())}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            project = re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0].lower().replace("-", "_")
            assert any(name.startswith(project) for name in shipped), requirement


def test_the_zip_fits_lambda(built: Package) -> None:
    assert built.zip_path.stat().st_size < LAMBDA_ZIP_LIMIT


def test_the_packaged_api_handler_imports_on_its_own(built: Package) -> None:
    """`import app` from the unzipped package alone (no site-packages), as Lambda would."""
    result = measure(built.zip_path, repeat=1)
    assert result["handler"] == "app.app"
    assert result["import_ms"] > 0
    assert result["zip_bytes"] == built.zip_path.stat().st_size
    assert "chalicelib.observability" in result["modules"]


def test_the_bundled_map_is_a_file_link_to_the_repo_map() -> None:
    # Chalice follows file symlinks but skips symlinked folders: keep it a file link.
    assert BUNDLED_MAP.is_symlink() and not BUNDLED_MAP.parent.is_symlink()
    assert BUNDLED_MAP.resolve() == REPO_MAP.resolve()
