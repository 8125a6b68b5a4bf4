"""Test modules stay small too: at most 400 lines, the house rule the library keeps
(tests/import_graph.py ``oversized``). A longer one is split by topic, its shared helpers
in a named module beside it or its folder's conftest.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400

#: modules under tests/ allowed to be longer, and why
LONG_TEST_MODULES_ALLOWED: dict[str, str] = {
    "tests/server/test_server_cell_types.py": "under change elsewhere when the rule came in",
    "tests/server/test_server_hygiene.py": "under change elsewhere when the rule came in; "
    "a robustness file (docs/robustness.py), its split renames rows of docs/robustness.md",
}


def line_counts(root: Path) -> dict[str, int]:
    """Lines of every Python module under ``root``/tests, by path relative to ``root``."""
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8").count("\n")
        for path in sorted((root / "tests").rglob("*.py"))
    }


def long_modules(
    root: Path, allowed: dict[str, str], max_lines: int = MAX_LINES
) -> tuple[list[str], list[str]]:
    """(modules over ``max_lines`` not allowed, allowed ones that are short or gone)."""
    counts = line_counts(root)
    long = [f"{p}: {n} lines" for p, n in counts.items() if n > max_lines and p not in allowed]
    stale = [p for p in allowed if counts.get(p, 0) <= max_lines]
    return long, stale


def test_test_modules_stay_small() -> None:
    long, stale = long_modules(ROOT, LONG_TEST_MODULES_ALLOWED)
    assert not long, f"split these by topic (or allow one, saying why): {long}"
    assert not stale, f"no longer long or gone, drop them from LONG_TEST_MODULES_ALLOWED: {stale}"


def test_the_check_sees_a_long_module_and_a_stale_allowance(tmp_path: Path) -> None:
    folder = tmp_path / "tests" / "engine"
    folder.mkdir(parents=True)
    (folder / "test_long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (folder / "test_at_the_limit.py").write_text("x = 1\n" * MAX_LINES)
    (folder / "conftest.py").write_text("x = 1\n" * (MAX_LINES + 5))
    allowed = {"tests/engine/conftest.py": "why", "tests/engine/test_at_the_limit.py": "why"}
    long, stale = long_modules(tmp_path, allowed)
    assert long == [f"tests/engine/test_long.py: {MAX_LINES + 1} lines"]
    assert stale == ["tests/engine/test_at_the_limit.py"]
