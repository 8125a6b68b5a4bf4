"""``hybrid run --graph FILE``: a user's own process graph, in the shapes openEO tools write
it, run on the local backend into a results folder; bad graph files and --overwrite.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local import LocalBackend
from hybrid.cli import main
from hybrid.errors import ProcessGraphInvalid, UsageError
from hybrid.graph_file import flat_graph
from hybrid.graph_structure import cyclic_nodes
from tests.cli.graph_files import WINDOW, _series_graph, _workflow_graph, _write


def test_the_workflows_graph_file_gives_the_workflows_result(
    sample_catalog, tmp_path, capsys, monkeypatch
):
    graph = _workflow_graph(capsys)
    stac = ["--stac", str(sample_catalog)]
    assert main(["run", *stac, *WINDOW, "--out", str(tmp_path / "workflow.nc"), "--quiet"]) == 0
    graph_file = _write(tmp_path / "mine.json", graph)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["run", "--graph", str(graph_file), *stac, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "mean of var" in printed and "result: out/mine (openEO.nc)" in printed
    assert main(["compare", "workflow.nc", "out/mine"]) == 0
    # a job body on standard input (GET /jobs/{id} gives that shape)
    stdin = io.StringIO(json.dumps({"process": {"process_graph": graph}}))
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["run", "--graph", "-", *stac, "--out", "piped", "--quiet"]) == 0
    assert main(["compare", "out/mine", "piped"]) == 0


def test_a_graph_without_save_result_is_saved_as_copernicus_saves_it(sample_catalog, tmp_path):
    series = _write(tmp_path / "series.json", _series_graph(save=False))
    out = tmp_path / "series"
    assert main(["run", "--graph", str(series), "--stac", str(sample_catalog),
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert [p.name for p in out.iterdir()] == ["timeseries.json"]  # JSON, the driver's default
    saved = _write(tmp_path / "saved.json", _series_graph(save=True))
    assert main(["run", "--graph", str(saved), "--stac", str(sample_catalog),
                 "--out", str(tmp_path / "csv"), "--quiet"]) == 0  # fmt: skip
    assert [p.name for p in (tmp_path / "csv").iterdir()] == ["timeseries.csv"]
    assert main(["compare", str(out), str(tmp_path / "csv")]) == 0


def test_overwrite_replaces_the_whole_folder(sample_catalog, tmp_path, capsys):
    graph = _workflow_graph(capsys)
    graph["saveresult1"]["arguments"]["format"] = "GTiff"
    graph_file = _write(tmp_path / "g.json", graph)
    out = tmp_path / "out"
    run = ["run", "--graph", str(graph_file), "--stac", str(sample_catalog), "--out", str(out)]
    assert main([*run, "--quiet"]) == 0
    assert sorted(p.suffix for p in out.iterdir()) == [".tif"]
    assert main([*run, "--quiet"]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    graph["saveresult1"]["arguments"]["format"] = "netCDF"
    _write(graph_file, graph)
    assert main([*run, "--quiet", "--overwrite"]) == 0
    assert [p.name for p in out.iterdir()] == ["openEO.nc"]  # no GeoTIFF of the first run
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


BAD_GRAPHS: dict[str, tuple[str, str]] = {
    "missing": ("", "graph file not found"),
    "not JSON": ("{", "is not JSON (line 1, column 2"),
    "a list": ("[1]", "holds no process graph"),
    "no process_id": ('{"a": {"arguments": {}, "result": true}}', "'a' needs a 'process_id' text"),
    "no result node": ('{"a": {"process_id": "pi", "arguments": {}}}', "found none"),
    "two result nodes": (
        '{"a": {"process_id": "pi", "arguments": {}, "result": true},'
        ' "b": {"process_id": "pi", "arguments": {}, "result": true}}',
        "found 2 (a, b)",
    ),
    "a cycle": (
        '{"a": {"process_id": "absolute", "arguments": {"x": {"from_node": "b"}}},'
        ' "b": {"process_id": "absolute", "arguments": {"x": {"from_node": "a"}}, "result": true}}',
        "the nodes a, b form a cycle",
    ),
    "a malformed reference": (
        '{"a": {"process_id": "pi", "arguments": {}},'
        ' "b": {"process_id": "absolute", "arguments": {"x": {"from_node": 1}}, "result": true}}',
        "node 'b' has the argument value {\"from_node\": 1}, which is no reference",
    ),
    "an unknown process": (
        '{"a": {"process_id": "frobnicate", "arguments": {}, "result": true}}',
        "'frobnicate' is not available",
    ),
}


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _loop(path: Path) -> None:
    path.symlink_to(path)


NAN_GRAPH = '{"a": {"process_id": "absolute", "arguments": {"x": NaN}, "result": true}}'

#: graph files that are not readable as one: how to make them, what the line says
ODD_FILES: dict[str, tuple[Any, str]] = {
    "a FIFO (would wait for a writer)": (_fifo, "is not a regular file"),
    "a folder": (Path.mkdir, "is not a regular file"),
    "a symbolic link loop": (_loop, "cannot read the graph file"),
    "NaN, which no remote backend takes": (
        lambda p: p.write_text(NAN_GRAPH),
        "NaN is not JSON",
    ),
    "nested 300 levels deep": (
        lambda p: p.write_text(
            '{"a": {"process_id": "pi", "arguments": {"x": '
            + "[" * 300
            + "]" * 300
            + '}, "result": true}}'
        ),
        "nested deeper than 200 levels",
    ),
    "a name too long for the system": (
        lambda p: None,
        "File name too long",
    ),
    "a number of 5000 digits": (lambda p: p.write_text("1" * 5000), "not a readable process graph"),
}


@pytest.mark.parametrize("case", list(BAD_GRAPHS) + list(ODD_FILES))
def test_a_bad_graph_file_is_one_line_and_leaves_nothing(case, tmp_path, capsys):
    """hybrid run --graph with a graph file that cannot run (missing, not JSON, no graph,
    a loop, a device, too deep, NaN): one line, exit 2, no folder made."""
    graph_file = tmp_path / ("g" * 300 if case == "a name too long for the system" else "g.json")
    if case in ODD_FILES:
        make, expected = ODD_FILES[case]
        make(graph_file)
    else:
        text, expected = BAD_GRAPHS[case]
        if text:
            graph_file.write_text(text)
    out = tmp_path / "new" / "folder" / "result"
    assert main(["run", "--graph", str(graph_file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "options", [["--aoi", "x.json"], ["--period", "week", "--format", "GTiff"], ["--plots", "p"],
                ["--resume", "j-1"], ["--period", "month"], ["--max-cloud-cover", "20"]],
)  # fmt: skip
def test_the_workflows_options_are_refused_with_a_graph(options, tmp_path, capsys):
    """The built-in workflow's options with --graph, also at their default value: one
    line naming them, exit 2."""
    graph_file = _write(tmp_path / "g.json", _series_graph(save=False))
    assert main(["run", "--graph", str(graph_file), *options]) == 2
    err = capsys.readouterr().err
    named = [option for option in options if option.startswith("--")]
    assert all(option in err for option in named) and "built-in workflow only" in err


def test_the_shapes_openeo_tools_write_are_one_graph():
    graph = _series_graph(save=True)
    shapes = [graph, {"process_graph": graph}, {"process": {"process_graph": graph}},
              {"id": "ndvi_fields", "parameters": [], "process_graph": graph}]  # fmt: skip
    assert all(flat_graph(shape, source="g.json") == graph for shape in shapes)


def test_only_the_nodes_of_a_loop_are_named():
    graph = {
        "a": {"process_id": "absolute", "arguments": {"x": {"from_node": "b"}}},
        "b": {"process_id": "absolute", "arguments": {"x": {"from_node": "a"}}},
        "c": {"process_id": "absolute", "arguments": {"x": {"from_node": "b"}}},
        "d": {"process_id": "pi", "arguments": {}},
    }
    assert cyclic_nodes(graph) == ["a", "b"]
    del graph["a"]["arguments"]["x"]
    assert cyclic_nodes(graph) == []
    looping_callback = {"process_graph": {
        "p": {"process_id": "absolute", "arguments": {"x": {"from_node": "p"}}, "result": True},
    }}  # fmt: skip
    outer = {"apply": {"process_id": "apply", "result": True, "arguments": {
        "data": {"from_node": "load"}, "process": looping_callback,
    }}, "load": _series_graph(save=False)["load"]}  # fmt: skip
    with pytest.raises(ProcessGraphInvalid, match="the nodes p form a cycle"):
        LocalBackend().validate(outer)


def test_overwrite_replaces_results_only(tmp_path, capsys, monkeypatch):
    """--overwrite never removes what is not a result: a folder holding the user's other
    files, the working folder or one above it, a symbolic link."""
    graph_file = _write(tmp_path / "g.json", {"a": {"process_id": "pi", "arguments": {},
                                                    "result": True}})  # fmt: skip
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("two years of work")
    run = ["run", "--graph", str(graph_file), "--overwrite", "--out"]
    assert main([*run, str(mine)]) == 2
    assert "holds other things (thesis.txt)" in capsys.readouterr().err
    assert (mine / "thesis.txt").read_text() == "two years of work"
    monkeypatch.chdir(mine)
    for here in (".", "..", "/"):
        assert main([*run, here]) == 2
        assert "is the working folder or above it" in capsys.readouterr().err
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert main([*run, str(tmp_path / "link")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert main([*run, str(tmp_path / "results")]) == 0  # results only: replaced
    assert main([*run, str(tmp_path / "results")]) == 0
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["result.json"]


def test_a_folder_made_while_the_graph_ran_is_not_replaced(tmp_path):
    from hybrid.cli.run_graph import install_folder

    produced = tmp_path / "work" / "result.json"
    produced.parent.mkdir()
    produced.write_text("3.14")
    out = tmp_path / "out"
    out.mkdir()  # another run, finished first
    (out / "openEO.nc").write_text("theirs")
    with pytest.raises(UsageError, match="appeared while the graph ran"):
        install_folder([produced], tmp_path / "staging", out, overwrite=False)
    assert (out / "openEO.nc").read_text() == "theirs"
