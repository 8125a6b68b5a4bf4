"""``hybrid run --graph FILE`` and ``hybrid.run(graph=...)``: a user's own process graph,
in the shapes openEO tools write it, run on the local backend into a results folder."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import hybrid
from hybrid.backends.local import LocalBackend
from hybrid.cli import main
from hybrid.errors import ProcessGraphInvalid, UsageError
from hybrid.graph_file import flat_graph
from hybrid.graph_structure import cyclic_nodes

WINDOW = ["--start", "2023-06-01", "--end", "2023-06-15"]
FIELD = {
    "type": "Polygon",
    "coordinates": [[[6.656, 45.236], [6.662, 45.236], [6.662, 45.241], [6.656, 45.241],
                     [6.656, 45.236]]],
}  # fmt: skip


def _workflow_graph(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["graph", *WINDOW]) == 0
    graph: dict[str, Any] = json.loads(capsys.readouterr().out)
    return graph


def _series_graph(save: bool) -> dict[str, Any]:
    """NDVI of a field per date, as a user writes it with the client (no mask)."""
    graph: dict[str, Any] = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "SENTINEL2_L2A", "bands": ["B04", "B08"],
            "spatial_extent": {"west": 6.65, "south": 45.23, "east": 6.67, "north": 45.25},
            "temporal_extent": ["2023-06-01", "2023-06-15"],
        }},
        "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "fields": {"process_id": "aggregate_spatial", "arguments": {
            "data": {"from_node": "ndvi"}, "geometries": FIELD,
            "reducer": {"process_graph": {"mean": {
                "process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
                "result": True,
            }}},
        }, "result": not save},
    }  # fmt: skip
    if save:
        graph["save"] = {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "fields"}, "format": "CSV"},
            "result": True,
        }
    return graph


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


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
    assert "mean var" in printed and "result: out/mine (openEO.nc)" in printed
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
    "no process_id": ('{"a": {"arguments": {}, "result": true}}', "node 'a' has no 'process_id'"),
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
    "an unknown process": (
        '{"a": {"process_id": "frobnicate", "arguments": {}, "result": true}}',
        "'frobnicate' is not available",
    ),
}


@pytest.mark.parametrize("case", list(BAD_GRAPHS))
def test_a_bad_graph_file_is_one_line_and_leaves_nothing(case, tmp_path, capsys):
    text, expected = BAD_GRAPHS[case]
    graph_file = tmp_path / "g.json"
    if text:
        graph_file.write_text(text)
    out = tmp_path / "new" / "folder" / "result"
    assert main(["run", "--graph", str(graph_file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "options", [["--aoi", "x.json"], ["--period", "week", "--format", "GTiff"], ["--plots", "p"],
                ["--resume", "j-1"]],
)  # fmt: skip
def test_the_workflows_options_are_refused_with_a_graph(options, tmp_path, capsys):
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


def test_the_python_api_runs_a_graph_into_a_dataset(sample_catalog, capsys):
    graph = _workflow_graph(capsys)
    mine = hybrid.run(graph=graph, stac=str(sample_catalog))
    theirs = hybrid.run(start=WINDOW[1], end=WINDOW[3], stac=str(sample_catalog))
    assert hybrid.compare(mine, theirs)
    with pytest.raises(UsageError, match=r"the graph wrote timeseries\.json, not one netCDF"):
        hybrid.run(graph=_series_graph(save=False), stac=str(sample_catalog))
