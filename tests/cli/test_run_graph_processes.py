"""``hybrid run --graph FILE`` and ``hybrid.run(graph=...)`` with user-defined processes
(a document, stored ones, published at a URL), long chains, saves and comparisons.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hybrid
from hybrid.cli import main
from hybrid.errors import UsageError
from tests.cli.graph_files import WINDOW, _series_graph, _workflow_graph, _write


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
