"""The package's layout: no import cycles (in graphc and in benchmarks), no import placed after
code to dodge one, no module over 400 lines, the stages visible in ``ls graphc``, and each
backend target in a folder of its own (docs/design.md, "Where each stage lives")."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "graphc"
BENCHMARKS = ROOT / "benchmarks"
STAGES = ("frontend", "graph", "ops", "differentiate", "backends", "api", "tools")
MAX_LINES = 400
#: Folders under graphc/backends that are not a target: dask's layer runs the targets' code.
NOT_TARGETS = ("dask",)


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str], prefix: str = "graphc") -> set[str]:
    """The modules of ``prefix`` (a package) that ``name`` imports anywhere in its text (inside
    functions too), with the subpackages Python initialises on the way (not the importer's own
    packages, which are already initialised by the time it runs)."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name.startswith(prefix))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.startswith(prefix):
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


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    found = modules(package)
    graph = nx.DiGraph()
    graph.add_nodes_from(found)
    for name, path in found.items():
        graph.add_edges_from((name, target) for target in
                             imports_of(name, path, set(found), package.name))
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


def test_the_benchmarks_have_no_import_cycles():
    graph = import_graph(BENCHMARKS)
    assert graph.has_edge("benchmarks.__main__", "benchmarks.runner")  # the walk found them
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles}"


def test_a_cycle_in_the_benchmarks_would_be_found(tmp_path):
    package = tmp_path / "benchmarks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from benchmarks.b import x\n")
    (package / "b.py").write_text("def f():\n    from benchmarks import a\n")  # a late one
    cycles = list(nx.simple_cycles(import_graph(package)))
    assert sorted(map(sorted, cycles)) == [["benchmarks.a", "benchmarks.b"]]


def test_no_module_of_graphc_is_longer_than_400_lines():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, path in modules().items()}
    assert len(lengths) > 60 and max(lengths.values()) > 100  # the walk read the modules
    long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"


def test_no_target_folder_imports_another():
    targets = {p.parent.name for p in (PACKAGE / "backends").glob("*/__init__.py")}
    targets -= set(NOT_TARGETS)
    assert {"python", "numba", "c", "jax"} <= targets
    graph = import_graph()
    folders = {name: name.split(".")[2] for name in graph
               if name.startswith("graphc.backends.") and name.split(".")[2] in targets}
    crossing = sorted((a, b) for a, b in graph.edges
                      if a in folders and b in folders and folders[a] != folders[b])
    assert crossing == []


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
    assert loose == ["errors.py", "limits.py"]
