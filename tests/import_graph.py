"""Walk the import graph of the project's own modules: cycles and layer violations.

The layers, innermost first, and the one direction imports may take:

    core      hybrid.*           parameters, graph, grid, AOI, STAC, result I/O, errors, sample
    backends  hybrid.backends.*  the local engine, the remote adapter (repository: backends/)
    face      hybrid.cli, hybrid.server, hybrid.api, plots, quicklooks, scenes, ...

A module may import its own layer or an inner one, never an outer one; no two modules
may import each other, directly or through others (imports under ``if TYPE_CHECKING:``
do not count: they never run). Usage: ``python -m tests.import_graph`` prints the
problems and exits 1 when there are any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: repository folder -> the package name it has once installed
PACKAGES = {"hybrid": "hybrid", "backends": "hybrid.backends"}

#: modules (and their submodules) of the outer layer
FACE = (
    "hybrid.cli",
    "hybrid.server",
    "hybrid.api",
    "hybrid.testing",
    "hybrid.plots",
    "hybrid.figures",
    "hybrid.quicklooks",
    "hybrid.scene_table",
    "hybrid.workflow",
    "hybrid.summary",
    "hybrid.comparison",
    "hybrid.comparison_report",
    "hybrid.series_comparison",
    "hybrid.frame_comparison",
    "hybrid.value_comparison",
    "hybrid.series_plots",
    "hybrid.__main__",
)


def module_files() -> dict[str, Path]:
    """installed module name -> source file, for every module of the project."""
    modules: dict[str, Path] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def canonical(name: str) -> str:
    """The installed name of an imported module: ``backends.x`` -> ``hybrid.backends.x``.

    The repository folder ``backends/`` is importable as ``backends`` from a checkout's
    root, but only ``hybrid.backends`` is installed: :func:`old_spellings` reports it."""
    if name == "backends" or name.startswith("backends."):
        return "hybrid." + name
    return name


def old_spellings() -> list[str]:
    """Imports that name ``backends`` as a top-level package (absent once installed)."""
    found = []
    for module, path in module_files().items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            found += [f"{module} imports {n}" for n in names if n.split(".")[0] == "backends"]
    return sorted(set(found))


def layer(module: str) -> int:
    if any(module == f or module.startswith(f + ".") for f in FACE):
        return 2
    if module == "hybrid.backends" or module.startswith("hybrid.backends."):
        return 1
    return 0


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """Canonical names imported; ``from pkg import submodule`` counts as the submodule only."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (canonical(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                parent = parent if is_package else parent[:-1]
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            base = canonical(base)
            members = [f"{base}.{alias.name}" for alias in node.names]
            yield from members
            if not all(m in known for m in members):
                yield base
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (at any depth of its code)."""
    files = module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set(_imported_names(tree, module, path.name == "__init__.py", set(files)))
        graph[module] = {n for n in names if n in files and n != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """'a -> b' for every import from an inner layer into an outer one."""
    return sorted(
        f"{src} -> {dst}" for src, dsts in graph.items() for dst in dsts if layer(dst) > layer(src)
    )


def problems() -> list[str]:
    graph = import_graph()
    found = [f"cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    found += [f"layer: {v}" for v in layer_violations(graph)]
    found += [f"spelling: {v} (use hybrid.backends)" for v in old_spellings()]
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    print(f"{len(import_graph())} modules, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())


#: modules / functions allowed to be longer than the house rule, and why
LONG_ALLOWED: dict[str, str] = {
    "hybrid.sample.landscape.build_surface": "one table of land-cover layers, read top down",
    "hybrid.sample.stac.item_json": "one STAC item literal, field by field",
    "hybrid.sample.stac.collection_json": "one STAC collection literal",
}


def oversized(max_module: int = 400, max_function: int = 60) -> list[str]:
    """Modules over ``max_module`` lines and functions over ``max_function`` lines."""
    found = []
    for module, path in module_files().items():
        source = path.read_text()
        if source.count("\n") > max_module:
            found.append(f"{module}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > max_function:
                    found.append(f"{module}.{node.name}: {length} lines")
    return sorted(f for f in found if f.split(":")[0] not in LONG_ALLOWED)
