"""The code keeps a shape a newcomer can read: no file in chalicelib/ over 350 lines, no
function over 40 (from its `def` to its last line, docstring and nested functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[3] / "chalicelib"
MAX_FILE_LINES = 350
MAX_FUNCTION_LINES = 40


def python_files() -> list[Path]:
    return sorted(CHALICELIB.rglob("*.py"))


def functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method, named by its qualified name (Class.method, outer.inner)."""
    found = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((prefix + node.name, node))
            found += functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            found += functions(node, f"{prefix}{node.name}.")
    return found


def relative(path: Path) -> str:
    return path.relative_to(CHALICELIB.parent).as_posix()


def test_the_walk_sees_the_code() -> None:  # a walk that finds nothing would pass anything
    files = python_files()
    assert len(files) > 50
    assert any(functions(ast.parse(p.read_text(encoding="utf-8"))) for p in files)


def test_no_file_over_350_lines() -> None:
    too_long = [
        f"{relative(p)}: {n} lines"
        for p in python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert not too_long, "split by responsibility:\n" + "\n".join(too_long)


def test_no_function_over_40_lines() -> None:
    too_long = []
    for path in python_files():
        for name, node in functions(ast.parse(path.read_text(encoding="utf-8"))):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                too_long.append(f"{relative(path)}:{name}: {length} lines")
    assert not too_long, "shorten (one step per function):\n" + "\n".join(too_long)
