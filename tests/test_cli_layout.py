"""The command layer stays thin: short functions, and no command module leans on another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMANDS = Path(__file__).resolve().parents[1] / "src" / "ringodesk_cli" / "commands"
MODULES = sorted(COMMANDS.glob("*.py"))
MAX_LINES = 60


def function_lengths(path: Path) -> dict[str, int]:
    """Every function's length in lines, its decorators and signature included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lengths = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            lengths[f"{path.name}:{node.name}"] = node.end_lineno - first + 1
    return lengths


def command_imports(path: Path) -> set[str]:
    """Names of the other command modules that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ringodesk_cli.commands":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("ringodesk_cli.commands."):
                found.add(node.module.rsplit(".", 1)[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ringodesk_cli.commands."):
                    found.add(alias.name.rsplit(".", 1)[1])
    return found - {"context"}


def test_the_walk_sees_every_command_module() -> None:
    names = {p.name for p in MODULES}
    assert {"activate.py", "root.py", "sync.py", "demo.py", "manager.py"} <= names
    assert function_lengths(COMMANDS / "activate.py")["activate.py:activate"] > 20


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_command_function_is_over_60_lines(path: Path) -> None:
    too_long = {name: n for name, n in function_lengths(path).items() if n > MAX_LINES}
    assert not too_long, f"move logic into the library: {too_long}"


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_command_modules_import_only_the_shared_context(path: Path) -> None:
    if path.name in ("root.py", "__init__.py"):
        return  # root mounts every command; the package file is empty
    extra = command_imports(path)
    assert not extra, f"{path.name} imports commands {sorted(extra)}: share through the library"
