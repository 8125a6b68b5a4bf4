"""``hybrid run --graph FILE`` and ``hybrid.run(graph=...)``: a user's own process graph,
in the shapes openEO tools write it, run on the local backend into a results folder."""

from __future__ import annotations

import io
import json
import os
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


def test_the_python_api_runs_a_graph_into_a_dataset(sample_catalog, capsys):
    graph = _workflow_graph(capsys)
    mine = hybrid.run(graph=graph, stac=str(sample_catalog))
    theirs = hybrid.run(start=WINDOW[1], end=WINDOW[3], stac=str(sample_catalog))
    assert hybrid.compare(mine, theirs)
    with pytest.raises(UsageError, match=r"the graph wrote timeseries\.json, not one netCDF"):
        hybrid.run(graph=_series_graph(save=False), stac=str(sample_catalog))
    with pytest.raises(UsageError, match="graph must be a process graph"):
        hybrid.run(graph=[graph])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="graph holds no process graph"):
        hybrid.run(graph={})
    with pytest.raises(UsageError, match="out is for 'hybrid run'"):
        hybrid.run(graph=graph, out="x.nc")
    with pytest.raises(UsageError, match="node id 1 is no text"):
        hybrid.run(graph={1: {"process_id": "pi", "arguments": {}, "result": True}})
    with pytest.raises(UsageError, match=r"^graph= runs the graph as it is; period applies"):
        hybrid.run(graph=graph, period="dekad")  # Python's spelling, not --period


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


def test_a_user_defined_process_document_runs_with_its_defaults(tmp_path, capsys):
    udp = {"id": "scaled", "parameters": [{"name": "factor", "schema": {"type": "number"},
                                            "default": 4}],
           "process_graph": {"m": {"process_id": "multiply", "arguments": {
               "x": {"from_parameter": "factor"}, "y": 2.5}, "result": True}}}  # fmt: skip
    out = tmp_path / "out"
    assert main(["run", "--graph", str(_write(tmp_path / "udp.json", udp)), "--out", str(out)]) == 0
    assert json.loads((out / "result.json").read_text()) == 10
    del udp["parameters"][0]["default"]
    assert main(["run", "--graph", str(_write(tmp_path / "udp.json", udp)), "--out",
                 str(tmp_path / "again")]) == 2  # fmt: skip
    assert "parameter(s) factor have no default" in capsys.readouterr().err


def test_long_chains_run_up_to_the_limit(sample_catalog, tmp_path, capsys):
    """pydantic-core validates at most 255 levels: the parser's nested references of a
    longer chain were no longer recognised (``add`` got a dict)."""
    chain: dict[str, Any] = {"n0": {"process_id": "add", "arguments": {"x": 1, "y": 1}}}
    for i in range(1, 999):
        chain[f"n{i}"] = {"process_id": "add", "arguments": {"x": {"from_node": f"n{i - 1}"},
                                                             "y": 1}}  # fmt: skip
    chain["n998"]["result"] = True
    out = tmp_path / "chain"
    assert main(["run", "--graph", str(_write(tmp_path / "c.json", chain)), "--out", str(out)]) == 0
    assert json.loads((out / "result.json").read_text()) == 1000
    graph = _series_graph(save=False)
    del graph["fields"]
    graph["ndvi"]["result"] = False
    previous = "ndvi"
    for i in range(300):  # 300 applies of x + 1 on the cube
        callback = {"process_graph": {"p": {"process_id": "add", "result": True, "arguments": {
            "x": {"from_parameter": "x"}, "y": 1}}}}  # fmt: skip
        graph[f"a{i}"] = {"process_id": "apply", "arguments": {
            "data": {"from_node": previous}, "process": callback}}  # fmt: skip
        previous = f"a{i}"
    graph[previous]["result"] = True
    stac = ["--stac", str(sample_catalog), "--quiet"]
    assert main(["run", "--graph", str(_write(tmp_path / "a.json", graph)), *stac,
                 "--out", str(tmp_path / "applied")]) == 0  # fmt: skip
    graph["a0"]["arguments"]["process"]["process_graph"]["p"]["arguments"]["y"] = 300
    graph["a0"]["result"] = True
    for i in range(1, 300):
        del graph[f"a{i}"]
    assert main(["run", "--graph", str(_write(tmp_path / "b.json", graph)), *stac,
                 "--out", str(tmp_path / "once")]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "applied"), str(tmp_path / "once"),
                 "--atol", "1e-4"]) == 0  # fmt: skip
    chain["n999"] = {"process_id": "add", "arguments": {"x": {"from_node": "n998"}, "y": 1}}
    chain["n1000"] = {"process_id": "add", "arguments": {"x": {"from_node": "n999"}, "y": 1}}
    chain["n998"]["result"], chain["n1000"]["result"] = False, True
    assert main(["run", "--graph", str(_write(tmp_path / "c.json", chain)), "--out",
                 str(tmp_path / "too-long")]) == 2  # fmt: skip
    assert "more than 1000 nodes" in capsys.readouterr().err


def test_compare_refuses_a_report_over_a_result_and_a_folder_of_two_rasters(
    sample_catalog, tmp_path, capsys
):
    graph = _series_graph(save=False)
    graph["fields"]["result"] = False
    graph["nc"] = {"process_id": "save_result", "arguments": {"data": {"from_node": "ndvi"},
                                                              "format": "netCDF"}}  # fmt: skip
    graph["tif"] = {"process_id": "save_result", "result": True, "arguments": {
        "data": {"from_node": "ndvi"}, "format": "GTiff"}}  # fmt: skip
    del graph["fields"]
    out = tmp_path / "two"
    assert main(["run", "--graph", str(_write(tmp_path / "g.json", graph)), "--stac",
                 str(sample_catalog), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["compare", str(out), str(out)]) == 2
    assert "holds several results (openEO.nc, openEO_2023-06-02Z.tif ...)" in (
        capsys.readouterr().err
    )
    nc = out / "openEO.nc"
    assert main(["compare", str(nc), str(nc), "--report", str(nc)]) == 2
    assert "would overwrite or go into the result" in capsys.readouterr().err
    (tmp_path / "stdout").symlink_to("/dev/stdout")
    for target in (tmp_path / "stdout", Path("/dev/null")):  # never replaced by a file
        assert main(["compare", str(nc), str(nc), "--report", str(target)]) == 2
        assert "a folder, a link or a device" in capsys.readouterr().err
    assert (tmp_path / "stdout").is_symlink() and not Path("/dev/null").is_file()
    assert main(["compare", str(nc), str(nc), "--report", str(tmp_path / "r.json")]) == 0


def test_a_stored_user_defined_process_is_given_with_udp(tmp_path, capsys):
    """A graph calling a process the user stored on the backend (namespace user) runs
    locally with its definition, as GET /process_graphs/{id} gives it."""
    udp = {"id": "twice", "parameters": [{"name": "v", "schema": {"type": "number"}}],
           "process_graph": {"m": {"process_id": "multiply", "arguments": {
               "x": {"from_parameter": "v"}, "y": 2}, "result": True}}}  # fmt: skip
    graph = {"call": {"process_id": "twice", "namespace": "user", "arguments": {"v": 21},
                      "result": True}}  # fmt: skip
    graph_file, udp_file = _write(tmp_path / "g.json", graph), _write(tmp_path / "u.json", udp)
    out = tmp_path / "out"
    run = ["run", "--graph", str(graph_file), "--out", str(out)]
    assert main([*run, "--udp", str(udp_file)]) == 0
    assert json.loads((out / "result.json").read_text()) == 42
    assert main([*run, "--overwrite"]) == 2
    assert "which no --udp file defines: give its definition" in capsys.readouterr().err
    assert main(["run", "--udp", str(udp_file)]) == 2
    assert "--udp goes with --graph" in capsys.readouterr().err


def test_a_udp_named_as_a_predefined_process_is_called_by_namespace_user(tmp_path):
    """As the emulator and Copernicus resolve it (python-driver processgraph/evaluator.py
    L347-368): a node without namespace calls the predefined ``absolute``, one with
    namespace ``user`` the ``--udp`` definition of the same id."""
    udp = {"id": "absolute", "parameters": [{"name": "x", "schema": {"type": "number"}}],
           "process_graph": {"m": {"process_id": "absolute", "arguments": {
               "x": {"from_parameter": "x"}}},
               "a": {"process_id": "add", "arguments": {"x": {"from_node": "m"}, "y": 100},
                     "result": True}}}  # fmt: skip
    udp_file = _write(tmp_path / "u.json", udp)
    for namespace, expected in ((None, 5), ("user", 105)):
        graph = {"call": {"process_id": "absolute", "namespace": namespace,
                          "arguments": {"x": -5}, "result": True}}  # fmt: skip
        out = tmp_path / f"out-{namespace}"
        graph_file = _write(tmp_path / f"g-{namespace}.json", graph)
        assert main(["run", "--graph", str(graph_file), "--out", str(out), "--quiet",
                     "--udp", str(udp_file)]) == 0  # fmt: skip
        assert json.loads((out / "result.json").read_text()) == expected
    # cumsum is not in Copernicus's registry: there the stored one is found first
    udp = {"id": "cumsum", "parameters": [{"name": "data", "schema": {"type": "array"}}],
           "process_graph": {"s": {"process_id": "sum", "arguments": {
               "data": {"from_parameter": "data"}}, "result": True}}}  # fmt: skip
    graph = {"call": {"process_id": "cumsum", "arguments": {"data": [1, 2, 3]}, "result": True}}
    out = tmp_path / "out-cumsum"
    assert main(["run", "--graph", str(_write(tmp_path / "g.json", graph)), "--out", str(out),
                 "--quiet", "--udp", str(_write(tmp_path / "c.json", udp))]) == 0  # fmt: skip
    assert json.loads((out / "result.json").read_text()) == 6


def test_a_process_published_at_a_url_runs_without_udp(tmp_path, capsys):
    """A graph calling a process by its URL namespace (an APEx catalogue JSON) runs with
    the definition fetched from there, as Copernicus fetches it (python-driver
    definitions.py L55-120); one that cannot be fetched is one line and exit 1."""
    from tests.stac_fixtures import static_site

    udp = {"id": "twice", "parameters": [{"name": "v", "schema": {"type": "number"}}],
           "process_graph": {"m": {"process_id": "multiply", "arguments": {
               "x": {"from_parameter": "v"}, "y": 2}, "result": True}}}  # fmt: skip
    (tmp_path / "site").mkdir()
    _write(tmp_path / "site" / "twice.json", udp)
    with static_site(tmp_path / "site") as site:
        for name, code in (("twice.json", 0), ("gone.json", 1)):
            graph = {"call": {"process_id": "twice", "namespace": f"{site}/{name}",
                              "arguments": {"v": 21}, "result": True}}  # fmt: skip
            graph_file = _write(tmp_path / "g.json", graph)
            out = tmp_path / name
            assert main(["run", "--graph", str(graph_file), "--out", str(out)]) == code
    assert json.loads((tmp_path / "twice.json" / "result.json").read_text()) == 42
    err = capsys.readouterr().err
    assert f"invalid namespace '{site}/gone.json'" in err and "Traceback" not in err
    assert not (tmp_path / "gone.json").exists()


def test_a_saved_result_saved_again_is_written_twice_as_on_copernicus(sample_catalog, tmp_path):
    """Copernicus's save_result gives its data (python-driver io.py L171-187), so the
    save_result the client's ``create_job`` adds after a user-defined process that saves
    writes the cube again; here it wrote ``result.json`` holding ``true``."""
    graph = _series_graph(save=True)
    graph["save"]["result"] = False
    graph["again"] = {"process_id": "save_result", "result": True,
                      "arguments": {"data": {"from_node": "save"}, "format": "JSON"}}  # fmt: skip
    out = tmp_path / "out"
    code = main(["run", "--graph", str(_write(tmp_path / "g.json", graph)),
                 "--stac", str(sample_catalog), "--out", str(out)])  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["timeseries.csv", "timeseries.json"]
    series = json.loads((out / "timeseries.json").read_text())
    assert list(series) == sorted(series) and all(len(v) == 1 for v in series.values())
