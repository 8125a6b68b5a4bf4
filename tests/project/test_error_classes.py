"""One error base class: every exception class of hybrid/ and backends/ derives from
:class:`hybrid.errors.HybridError`, but for the few named in :data:`OTHER_BASE`, each with
its reason. Read from the source (no module is imported), so it sees every class."""

from __future__ import annotations

import ast
import builtins

from tests import import_graph

#: exception classes with another base than HybridError, and why
OTHER_BASE: dict[str, str] = {
    "hybrid.errors.HybridError": "the base itself",
    "hybrid.errors.HybridWarning": "a warning: warnings.warn needs a Warning subclass",
    "hybrid.backends.local.property_filters._Unresolved": (
        "a control-flow signal raised without a message and caught in the same module"
    ),
}


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_builtin_exception(name: str) -> bool:
    found = getattr(builtins, name, None)
    return isinstance(found, type) and issubclass(found, BaseException)


def class_bases() -> dict[str, tuple[str, list[str]]]:
    """class name -> (qualified name, base names) for every class of the project."""
    found: dict[str, tuple[str, list[str]]] = {}
    for module, path in import_graph.module_files().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b for b in map(_base_name, node.bases) if b]
                found.setdefault(node.name, (f"{module}.{node.name}", bases))
    return found


def misrooted_exceptions(classes: dict[str, tuple[str, list[str]]]) -> list[str]:
    """Qualified names of exception classes that do not reach HybridError."""

    def ancestors(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        bases = classes[name][1] if name in classes and name not in seen else []
        return {name}.union(*(ancestors(b, seen | {name}) for b in bases))

    problems = []
    for name, (qualified, _bases) in classes.items():
        reached = ancestors(name)
        if "HybridError" in reached or qualified in OTHER_BASE:
            continue
        foreign = reached - classes.keys()
        if any(_is_builtin_exception(r) or r.endswith(("Error", "Exception")) for r in foreign):
            problems.append(qualified)
    return sorted(problems)


def test_every_exception_class_derives_from_hybrid_error():
    assert misrooted_exceptions(class_bases()) == []


def test_the_check_sees_an_exception_with_another_base():
    classes = {
        "HybridError": ("hybrid.errors.HybridError", ["Exception"]),
        "Good": ("hybrid.a.Good", ["HybridError"]),
        "Bad": ("hybrid.a.Bad", ["ValueError"]),
        "Worse": ("hybrid.a.Worse", ["Bad"]),
        "Foreign": ("hybrid.a.Foreign", ["JoseError"]),
        "Plain": ("hybrid.a.Plain", []),
        "Error": ("hybrid.a.Error", ["TypedDict"]),
    }
    assert misrooted_exceptions(classes) == ["hybrid.a.Bad", "hybrid.a.Foreign", "hybrid.a.Worse"]
