"""The package's layout: no import cycles, no import placed after code to dodge one, and the
stages visible in ``ls graphc`` (docs/design.md, "Where each stage lives")."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "graphc"
STAGES = ("frontend", "graph", "ops", "differentiate", "backends", "api", "tools")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The graphc modules ``name`` imports anywhere in its text (inside functions too), with
    the subpackages Python initialises on the way (not the importer's own packages, which are
    already initialised by the time it runs)."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name.startswith("graphc"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.startswith("graphc"):
            targets.add(node.module)
            targets.update(f"{node.module}.{a.name}" for a in node.names
                           if f"{node.module}.{a.name}" in known)
    edges = set()
    for target in targets:
        parts = target.split(".")
        for k in range(2, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in known and not (name + ".").startswith(prefix + ".") and prefix != name:
                edges.add(prefix)
    return edges


def import_graph() -> nx.DiGraph:
    found = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(found)
    for name, path in found.items():
        graph.add_edges_from((name, target) for target in imports_of(name, path, set(found)))
    return graph


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    assert graph.number_of_edges() > 50  # the walk found the imports
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles}"


def test_a_cycle_would_be_found():
    graph = import_graph()
    graph.add_edge("graphc.ops.record", "graphc.graph.graph")  # graph imports ops
    assert list(nx.simple_cycles(graph))


def test_no_module_imports_after_its_code_starts():
    late = []
    for name, path in modules().items():
        started = False
        for statement in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                if started:
                    late.append(f"{name}:{statement.lineno}")
            elif not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
                started = True
    assert late == []


def test_ls_graphc_shows_the_stages():
    entries = {p.name for p in PACKAGE.iterdir() if not p.name.startswith("__")}
    assert set(STAGES) <= entries
    loose = sorted(e for e in entries if e.endswith(".py"))
    assert loose == ["errors.py", "limits.py", "progress.py"]
