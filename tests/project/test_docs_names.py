"""The code README.md, benchmarks/README.md and docs/ point at exists: a backticked
project path (``hybrid/``, ``backends/``, ``benchmarks/``, ``tests/``) followed by a
backticked name (`` `backends/local/run.py` `save_result` ``) or joined to it with ``::``
names a file that holds that name; a backticked ``hybrid.module.name`` names a module of
the project that holds the name; in README.md and docs/ every backticked path of the
package (``hybrid/``, ``backends/``, ``benchmarks/``) exists. benchmarks/README.md is a
log of rounds: paths it names that are gone say so in the prose, not in a code pair.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests import import_graph

ROOT = Path(__file__).resolve().parents[2]
_OURS = r"(?:hybrid|backends|benchmarks|tests)/[\w./-]+\.py"
#: `path` `name`, `path` `name()` or `path::name`
_PAIR = re.compile(rf"`({_OURS})(?:` `|::)(\w[\w.]*)")
_PACKAGE_PATH = re.compile(
    r"`((?:hybrid|backends|benchmarks)/[\w./-]+\.(?:py|sh|json|md))(?:::\w+)?`"
)


_DOTTED = re.compile(r"`(hybrid(?:\.\w+)+)(?:\(\))?`")


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").rglob("*.md")]


def stale_names(text: str, where: str) -> list[str]:
    """``where:line path name`` of every pair whose file is missing or lacks the name."""
    stale = []
    for match in _PAIR.finditer(text):
        target, name = match.groups()
        source = ROOT / target
        last = name.split(".")[-1]
        if source.exists() and re.search(rf"\b{re.escape(last)}\b", source.read_text()):
            continue
        line = text.count("\n", 0, match.start()) + 1
        stale.append(f"{where}:{line} {target} {name}")
    return stale


def missing_paths(text: str, where: str) -> list[str]:
    """``where:line path`` of every backticked package path that does not exist."""
    return [
        f"{where}:{text.count(chr(10), 0, m.start()) + 1} {m.group(1)}"
        for m in _PACKAGE_PATH.finditer(text)
        if not (ROOT / m.group(1)).exists()
    ]


def unknown_modules(text: str, where: str) -> list[str]:
    """``where:line name`` of every backticked ``hybrid.module[.name]`` whose module is
    not one of the project's or lacks the name."""
    modules = import_graph.module_files()
    unknown = []
    for match in _DOTTED.finditer(text):
        parts = match.group(1).split(".")
        found = next((i for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in modules), 0)
        rest = parts[found:]
        source = modules[".".join(parts[:found])].read_text() if found else ""
        if found and (not rest or re.search(rf"\b{rest[0]}\b", source)):
            continue
        unknown.append(f"{where}:{text.count(chr(10), 0, match.start()) + 1} {match.group(1)}")
    return unknown


def _text(doc: Path) -> tuple[str, str]:
    return doc.read_text(encoding="utf-8"), str(doc.relative_to(ROOT))


def test_named_code_exists_in_the_file_named():
    assert [stale for doc in _documents() for stale in stale_names(*_text(doc))] == []


def test_package_paths_of_the_readme_and_docs_exist():
    docs = [d for d in _documents() if d.parent.name != "benchmarks"]
    assert [missing for doc in docs for missing in missing_paths(*_text(doc))] == []


def test_dotted_names_of_the_package_exist():
    assert [unknown for doc in _documents() for unknown in unknown_modules(*_text(doc))] == []


def test_the_check_sees_a_stale_name_and_a_missing_path():
    text = (
        "`hybrid/errors.py` `HybridError` and `hybrid/errors.py::UsageError` exist;\n"
        "`hybrid/errors.py` `_no_such_name` and `hybrid/no_such_module.py::f` do not.\n"
    )
    assert stale_names(text, "probe.md") == [
        "probe.md:2 hybrid/errors.py _no_such_name",
        "probe.md:2 hybrid/no_such_module.py f",
    ]
    assert missing_paths(text, "probe.md") == ["probe.md:2 hybrid/no_such_module.py"]
    dotted = "`hybrid.errors.UsageError`, `hybrid.server`; `hybrid.errors.Nope`, `hybrid.nope`"
    assert unknown_modules(dotted, "probe.md") == [
        "probe.md:1 hybrid.errors.Nope",
        "probe.md:1 hybrid.nope",
    ]
