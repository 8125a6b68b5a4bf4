"""The house rules that keep the code one-directional (see tests/import_graph.py)."""

from __future__ import annotations

from tests import import_graph


def test_no_import_cycles_and_imports_point_inwards():
    assert import_graph.problems() == []


def test_the_checker_sees_a_cycle_and_a_layer_violation():
    graph = {
        "hybrid.grid": {"hybrid.cli.run"},
        "hybrid.cli.run": {"hybrid.backends.remote"},
        "hybrid.backends.remote": {"hybrid.grid"},
    }
    assert import_graph.cycles(graph) == [sorted(graph)]
    assert import_graph.layer_violations(graph) == ["hybrid.grid -> hybrid.cli.run"]


def test_the_repository_spelling_of_backends_is_the_installed_one():
    assert import_graph.canonical("hybrid.backends.local.run") == "hybrid.backends.local.run"
    assert import_graph.layer("hybrid.backends.local.run") == 1
    assert import_graph.layer("hybrid.server.app") == 2
    assert import_graph.layer("hybrid.stac.search") == 0


def test_modules_and_functions_stay_small():
    assert import_graph.oversized() == []
