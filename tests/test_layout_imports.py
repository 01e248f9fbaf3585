"""The package map holds: no import cycle, imports only run downwards, every package is on
the map in docs/architecture.md, no module over 450 lines.

Every ``import`` and ``from .. import`` of every module counts, wherever it stands: at the
top, inside a function (run time) or under ``if TYPE_CHECKING:`` (the type level).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ringodesk_cli"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 450

# The layers of docs/architecture.md, top to bottom. A module may import its own layer
# (acyclic, checked below) and any layer under it, never one above. Names are the first
# part under ringodesk_cli: a package or a module at the root ("" is the package itself).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__", "main"),
    ("commands",),
    ("render",),
    ("serve", "doctor"),
    ("sync",),
    ("delivery",),
    ("rules", "contacts"),
    ("ledger",),
    ("setup", "session"),
    ("zoho", "ringostat", "credentials", "sandbox"),
    ("http_retry", "locks", "interrupts"),
    ("config",),
    ("environment",),
    ("errors",),
    ("redact", ""),
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imports_of(name: str, path: Path) -> set[str]:
    """The product's modules ``name`` imports: ``from pkg import mod`` names the module
    ``pkg.mod``, ``from pkg import thing`` the package ``pkg``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            targets = subs if len(subs) == len(node.names) else [base, *subs]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def area(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_a_function_level_and_a_type_level_import_count() -> None:
    # config/keys.py imports the hosts check inside the checker that needs it
    assert "ringodesk_cli.config.hosts" in GRAPH["ringodesk_cli.config.keys"]
    # rules/open_tickets.py names the Ledger only under TYPE_CHECKING
    assert "ringodesk_cli.ledger.store" in GRAPH["ringodesk_cli.rules.open_tickets"]


def test_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


def test_every_area_has_a_layer() -> None:
    assert {area(name) for name in MODULES} - set(LEVEL) == set()


def test_imports_only_run_downwards() -> None:
    upward = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if LEVEL[area(target)] < LEVEL[area(name)]
    )
    assert upward == []


def test_every_package_is_on_the_map() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
    assert [p for p in packages if f"{p}/" not in text] == []


def test_no_library_package_over_15_modules() -> None:
    sizes = {
        p.parent.name: len([m for m in p.parent.glob("*.py") if m.name != "__init__.py"])
        for p in SRC.glob("*/__init__.py")
        if p.parent.name not in ("commands", "sandbox")
    }
    assert {name: n for name, n in sizes.items() if n > 15} == {}


def test_no_module_over_450_lines() -> None:
    lines = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in MODULES.items()}
    assert {name: n for name, n in lines.items() if n > MAX_LINES} == {}


def test_no_sql_outside_the_ledger() -> None:
    """Only ledger/ (and the sandbox, a stand-in with its own store) runs SQL."""
    calls = sorted(
        f"{name}:{node.lineno}"
        for name, path in MODULES.items()
        if area(name) not in ("ledger", "sandbox")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany", "executescript")
    )
    assert calls == []
