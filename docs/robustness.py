"""Run the robustness tests and write ``docs/robustness.md``: one table row per test group.

    python docs/robustness.py            # runs the tests (about 20 min), rewrites the file
    python docs/robustness.py --check    # exit 1 when the file differs from a fresh run

A group is one test function; its cases are its parametrized items, or, for tests that
report a figure with ``record_property("cases", N)`` (the load test's jobs, the fuzzer's
requests), that figure. Known bugs are strict ``xfail`` cases: they count as tried, not
passed, and are listed under the table.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "robustness.md"

#: (area, pytest node ids) in the order of the table
SELECTION: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Bad input: CLI and Python API",
        (
            "tests/cli/test_bad_input.py",
            "tests/cli/test_cli.py::test_bad_input_is_one_line_exit_2",
            "tests/cli/test_cli.py::test_bad_aoi_is_one_line_exit_2",
            "tests/cli/test_cli.py::test_aoi_without_scenes_is_no_data_available",
            "tests/cli/test_cli.py::test_existing_output_is_not_overwritten",
            "tests/cli/test_cli.py::test_unknown_collection_and_band_are_rejected",
            "tests/cli/test_run_graph.py::test_a_bad_graph_file_is_one_line_and_leaves_nothing",
            "tests/cli/test_run_graph.py::test_the_workflows_options_are_refused_with_a_graph",
            "tests/cli/test_run_graph.py::test_overwrite_replaces_results_only",
            "tests/stac/test_stac_errors.py",
        ),
    ),
    (
        "Emulator under faults",
        ("tests/server/test_server_faults.py", "tests/server/test_server_memory.py"),
    ),
    (
        "Emulator security",
        (
            "tests/server/test_server_security.py",
            "tests/server/test_server_fuzz.py",
            "tests/server/test_udf_isolation.py",
        ),
    ),
    ("Emulator: graph limits and HTTP hygiene", ("tests/server/test_server_hygiene.py",)),
    ("Lost and broken Dask clusters", ("tests/engine/test_cluster_faults.py",)),
)

#: the test that compares this table with the collected cases (not a row of it)
SELF_CHECK = "tests/cli/test_bad_input.py::test_robustness_table_matches_the_collected_cases"
#: user properties shown as figures besides the case count
FIGURES = (
    "seconds",
    "peak_rss_mb",
    "operations",
    "examples",
    "rss_mb_after_10th",
    "rss_mb_after_last",
)
#: generated requests per operation and mode of the fuzzer here (the test suite runs 5)
FUZZ_EXAMPLES = "50"


@dataclass
class Group:
    area: str
    module: str
    function: str
    doc: str = ""
    tried: int = 0
    passed: int = 0
    skipped: int = 0
    known_bugs: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


class Collector:
    """A pytest plugin that tallies outcomes per test function."""

    def __init__(self, areas: dict[str, str]) -> None:
        self.areas = areas
        self.groups: dict[tuple[str, str], Group] = {}

    def _area(self, nodeid: str) -> str:
        for prefix, area in self.areas.items():
            if nodeid == prefix or nodeid.startswith(prefix):
                return area
        return "other"

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            module = item.nodeid.split("::", 1)[0]
            function = getattr(item, "originalname", item.name)
            key = (module, function)
            if key not in self.groups:
                doc = (getattr(item.obj, "__doc__", None) or "").strip()
                first = " ".join(doc.split("\n\n")[0].split()) if doc else function
                self.groups[key] = Group(self._area(item.nodeid), module, function, first)

    def pytest_runtest_logreport(self, report: Any) -> None:
        module = report.nodeid.split("::", 1)[0]
        function = report.nodeid.split("::", 1)[1].split("[", 1)[0]
        group = self.groups.get((module, function))
        if group is None:
            return
        if report.when == "setup" and report.skipped:
            group.skipped += 1
            return
        if report.when != "call":
            if report.failed:  # an error in setup or teardown
                group.tried += 1
            return
        properties = dict(report.user_properties)
        cases = int(properties.get("cases", 1))
        group.figures.update({k: properties[k] for k in FIGURES if k in properties})
        if hasattr(report, "wasxfail"):
            group.tried += 1
            case = report.nodeid.split("::", 1)[1]
            group.known_bugs.append(f"{case}: {report.wasxfail}")
        elif report.skipped:
            group.skipped += 1
        else:
            group.tried += cases
            group.passed += cases if report.passed else 0


def run(extra: Sequence[str] = ()) -> tuple[int, list[Group]]:
    import pytest

    areas = {node: area for area, nodes in SELECTION for node in nodes}
    collector = Collector(areas)
    nodes = [node for _, group in SELECTION for node in group]
    args = ["-q", "-p", "no:cacheprovider", "--deselect", SELF_CHECK, *nodes, *extra]
    code = pytest.main(args, plugins=[collector])
    return int(code), list(collector.groups.values())


def render(groups: list[Group]) -> str:
    lines = [
        "# Robustness: bad input, faults, security",
        "",
        "Generated by `python docs/robustness.py` from a run of the tests below (part of",
        "`bash .ci/test.sh`); `python docs/robustness.py --check` tells whether this file",
        "still matches a fresh run. A case is one parametrized test item, or one job of the",
        "load test, or one generated request of the fuzzer. Known bugs are strict `xfail`",
        "cases: tried, not passed, listed below the table.",
        "",
        "| area | test | what it checks | cases tried | passed | figures |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for group in groups:
        figures = ", ".join(f"{k} {v}" for k, v in sorted(group.figures.items()))
        if group.skipped:
            figures = ", ".join(filter(None, [figures, f"{group.skipped} skipped"]))
        name = f"`{Path(group.module).stem}::{group.function}`"
        doc = group.doc.replace("|", "\\|")
        row = f"| {group.area} | {name} | {doc} | {group.tried} | {group.passed} | {figures} |"
        lines.append(row)
    tried = sum(g.tried for g in groups)
    passed = sum(g.passed for g in groups)
    lines.append(f"| **total** | | | **{tried}** | **{passed}** | |")
    bugs = [bug for g in groups for bug in g.known_bugs]
    lines += ["", "## Known bugs (strict xfail: they fail the suite once fixed)", ""]
    lines += [f"- `{bug.split(':', 1)[0]}`:{bug.split(':', 1)[1]}" for bug in bugs] or ["None."]
    return "\n".join(lines) + "\n"


def stable_part(text: str) -> str:
    """The table without the figures that vary from run to run (seconds, memory)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| area"):
            cells = line.split(" | ")
            rows.append(" | ".join(cells[:5]))
        else:
            rows.append(line)
    return "\n".join(rows)


def table_cases(text: str) -> dict[str, tuple[int, int]]:
    """``module::function`` -> (cases tried, passed) from a robustness.md."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[1].startswith("`") and cells[3].isdigit():
            out[cells[1].strip("`")] = (int(cells[3]), int(cells[4]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HYBRID_FUZZ_EXAMPLES", FUZZ_EXAMPLES)
    code, groups = run()
    text = render(groups)
    if args.check:
        old = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        same = stable_part(old) == stable_part(text)
        print(f"{OUTPUT}: {'matches' if same else 'differs from'} a fresh run")
        return 0 if same and code == 0 else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(groups)} groups); pytest exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
