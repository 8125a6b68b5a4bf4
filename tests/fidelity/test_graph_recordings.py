"""A user's own graph in their CI: written with the openeo client, recorded on a backend
with ``hybrid record --graph`` (here the emulator over HTTP, the code path a Copernicus
recording takes), run locally with ``hybrid run --graph``, held together with
``hybrid compare`` - which must also catch a graph that changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openeo
import pytest
from openeo.rest.multiresult import MultiResult

from hybrid.cli import main
from tests.server_helpers import local_connection, local_server, openeo_env

FIELDS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": name, "properties": {}, "geometry": {
            "type": "Polygon",
            "coordinates": [[[x, 45.236], [x + 0.005, 45.236], [x + 0.005, 45.241],
                             [x, 45.241], [x, 45.236]]],
        }}
        for name, x in (("north-field", 6.656), ("south-field", 6.664))
    ],
}  # fmt: skip
PLUS_ONE = (
    "import pandas as pd\n\n"
    "def udf_apply_feature_dataframe(df: pd.DataFrame) -> pd.DataFrame:\n"
    "    return df + 1\n"
)
EXTENT = {"west": 6.65, "south": 45.23, "east": 6.67, "north": 45.25}


@pytest.fixture(scope="module")
def user_graphs(sample_catalog, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The user's script: two graphs written to files with the client's ``print_json``."""
    folder = tmp_path_factory.mktemp("graphs")
    with local_connection(folder / "data", sample_catalog) as connection:
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=EXTENT, temporal_extent=["2023-06-01", "2023-07-01"],
            bands=["B04", "B08", "SCL"], max_cloud_cover=20,
        )  # fmt: skip
        ndvi = cube.ndvi(red="B04", nir="B08").mask(cube.band("SCL") == 9)
        graphs = {
            "series": ndvi.aggregate_spatial(FIELDS, reducer="median").save_result("CSV"),
            "composite": ndvi.reduce_dimension("t", reducer="max").save_result("GTiff"),
            "changed": ndvi.aggregate_spatial(FIELDS, reducer="mean").save_result("CSV"),
        }
        udf = openeo.UDF(PLUS_ONE)  # per field, a table back (pandas' split layout)
        graphs["udf_table"] = ndvi.aggregate_spatial(FIELDS, reducer="mean").run_udf(udf=udf)
        bands = cube.filter_bands(["B04", "B08"])
        per_band = {"filename_prefix": "fields", "separate_asset_per_band": True}
        graphs["per_band"] = bands.save_result("GTiff", options=per_band)
        graphs["two_prefixes"] = MultiResult([
            ndvi.save_result("netCDF", options={"filename_prefix": "ndvi"}),
            bands.save_result("netCDF", options={"filename_prefix": "bands"}),
        ])  # fmt: skip
        both = [graphs["series"], ndvi.reduce_dimension("t", "max").save_result("netCDF")]
        graphs["both"] = MultiResult(both)
        for name, graph in graphs.items():
            with (folder / f"{name}.json").open("w") as stream:
                graph.print_json(file=stream)
    with local_server(folder / "served", sample_catalog) as served:
        yield {"url": served.url, **{n: folder / f"{n}.json" for n in graphs}}


@pytest.fixture
def credentials(monkeypatch, tmp_path) -> None:
    for key, value in openeo_env(tmp_path).items():
        if key.startswith(("OPENEO", "XDG")):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "hybrid")


def _record(url: str, graph: Path, root: Path, name: str) -> int:
    return main(["record", "--backend", url, "--graph", str(graph), "--name", name,
                 "--out-root", str(root), "--poll-interval", "0.2"])  # fmt: skip


def _run(graph: Path, catalog: Path, out: Path) -> int:
    return main(["run", "--graph", str(graph), "--stac", str(catalog), "--out", str(out),
                 "--quiet"])  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("name", "files"), [("series", ["timeseries.csv"]),
                                             ("composite", ["openEO.tif"]),
                                             ("udf_table", ["result.json"])])  # fmt: skip
def test_a_recorded_graph_and_its_local_run_compare_equal(
    name, files, user_graphs, sample_catalog, credentials, tmp_path, capsys
):
    root = tmp_path / "recordings"
    assert _record(user_graphs["url"], user_graphs[name], root, name) == 0, capsys.readouterr()
    recording = root / name
    assert sorted(p.name for p in recording.iterdir()) == sorted(
        [*files, "graph.json", "provenance.json"]
    )
    recorded = json.loads((recording / "graph.json").read_text())
    assert recorded == json.loads(user_graphs[name].read_text())["process_graph"]
    assert json.loads((recording / "provenance.json").read_text())["workflow"] is None
    assert _run(user_graphs[name], sample_catalog, tmp_path / "local") == 0
    capsys.readouterr()
    assert main(["compare", str(recording), str(tmp_path / "local")]) == 0, capsys.readouterr()


@pytest.mark.slow
def test_a_graph_that_changed_since_its_recording_is_caught(
    user_graphs, sample_catalog, credentials, tmp_path, capsys
):
    root = tmp_path / "recordings"
    assert _record(user_graphs["url"], user_graphs["series"], root, "series") == 0
    assert _run(user_graphs["changed"], sample_catalog, tmp_path / "local") == 0
    capsys.readouterr()
    assert main(["compare", str(root / "series"), str(tmp_path / "local")]) == 1
    assert "NOT EQUIVALENT" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "expected"),
    [("abc\n", "must be letters, digits"), ("x" * 300, "at most 200"),
     ("taken", "is a file, not a recording")],
)  # fmt: skip
def test_a_bad_recording_name_is_one_line(name, expected, tmp_path, capsys):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"a": {"process_id": "pi", "arguments": {}, "result": True}}))
    root = tmp_path / "rec"
    root.mkdir()
    (root / "taken").write_text("a file")
    code = main(["record", "--backend", "http://127.0.0.1:9", "--graph", str(graph),
                 "--name", name, "--out-root", str(root)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1
    assert sorted(p.name for p in root.iterdir()) == ["taken"]


def test_workflow_options_are_refused_when_recording_a_graph(tmp_path, capsys):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"a": {"process_id": "pi", "arguments": {}, "result": True}}))
    root = str(tmp_path / "rec")
    code = main(["record", "--backend", "http://127.0.0.1:9", "--graph", str(graph),
                 "--name", "x", "--out-root", root, "--period", "week"])  # fmt: skip
    assert code == 2
    assert "--period applies to the built-in workflow only" in capsys.readouterr().err
    assert not (tmp_path / "rec").exists()


@pytest.mark.slow
def test_a_graph_with_two_results_keeps_both_and_compares_each(
    user_graphs, sample_catalog, credentials, tmp_path, capsys
):
    root = tmp_path / "recordings"
    assert _record(user_graphs["url"], user_graphs["both"], root, "both") == 0
    recording, local = root / "both", tmp_path / "local"
    assert {"openEO.nc", "timeseries.csv"} <= {p.name for p in recording.iterdir()}
    assert _run(user_graphs["both"], sample_catalog, local) == 0
    capsys.readouterr()
    assert main(["compare", str(recording), str(local)]) == 2  # which one? no silent choice
    assert "holds several results (timeseries.csv, openEO.nc)" in capsys.readouterr().err
    for name in ("openEO.nc", "timeseries.csv"):
        assert main(["compare", str(recording / name), str(local / name)]) == 0


@pytest.mark.slow
def test_files_named_by_prefix_and_band_are_recorded_and_compared(
    user_graphs, sample_catalog, credentials, tmp_path, capsys
):
    """save_result with filename_prefix and separate_asset_per_band: every file kept,
    a folder of per-band GeoTIFFs read as one cube, two netCDFs compared one by one."""
    root = tmp_path / "recordings"
    for name in ("per_band", "two_prefixes"):
        assert _record(user_graphs["url"], user_graphs[name], root, name) == 0
        assert _run(user_graphs[name], sample_catalog, tmp_path / name) == 0
    tiffs = sorted(p.name for p in (root / "per_band").glob("*.tif"))
    assert tiffs == sorted(p.name for p in (tmp_path / "per_band").iterdir())
    assert len(tiffs) > 2 and all(n.startswith("fields_") for n in tiffs)
    assert {n.rsplit("_", 1)[1] for n in tiffs} == {"B04.tif", "B08.tif"}
    capsys.readouterr()
    assert main(["compare", str(root / "per_band"), str(tmp_path / "per_band")]) == 0
    assert "B04" in capsys.readouterr().out
    assert main(["compare", str(root / "two_prefixes"), str(tmp_path / "two_prefixes")]) == 2
    assert "holds several results (bands.nc, ndvi.nc)" in capsys.readouterr().err
    for name in ("bands.nc", "ndvi.nc"):
        recorded, local = root / "two_prefixes" / name, tmp_path / "two_prefixes" / name
        assert main(["compare", str(recorded), str(local)]) == 0


@pytest.mark.slow
def test_a_stored_process_runs_remotely_as_stored_and_locally_with_udp(
    user_graphs, sample_catalog, credentials, tmp_path, capsys
):
    """A graph calling the user's stored process (namespace user): the backend that stores
    it runs it (the graph is sent as it is), the local one with ``--udp`` its definition."""
    import openeo

    twice = {"m": {"process_id": "multiply", "result": True,
                   "arguments": {"x": {"from_parameter": "v"}, "y": 2}}}  # fmt: skip
    connection = openeo.connect(user_graphs["url"]).authenticate_basic("hybrid", "hybrid")
    udp = connection.save_user_defined_process("twice", twice, parameters=[
        {"name": "v", "description": "a number", "schema": {"type": "number"}}])  # fmt: skip
    (tmp_path / "udp.json").write_text(json.dumps(udp.describe()))
    graph = {"call": {"process_id": "twice", "namespace": "user", "arguments": {"v": 21},
                      "result": True}}  # fmt: skip
    (tmp_path / "g.json").write_text(json.dumps(graph))
    remote = ["run", "--graph", str(tmp_path / "g.json"), "--backend", user_graphs["url"]]
    remote += ["--poll-interval", "0.2"]
    assert main([*remote, "--out", str(tmp_path / "remote"), "--quiet"]) == 0
    local = ["run", "--graph", str(tmp_path / "g.json"), "--udp", str(tmp_path / "udp.json")]
    assert main([*local, "--out", str(tmp_path / "local"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "remote"), str(tmp_path / "local")]) == 0
    assert json.loads((tmp_path / "local" / "result.json").read_text()) == 42


@pytest.mark.slow
def test_a_graph_the_backend_refuses_is_a_usage_error_as_locally(
    user_graphs, credentials, tmp_path, capsys
):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"a": {"process_id": "frobnicate", "arguments": {},
                                       "result": True}}))  # fmt: skip
    assert main(["run", "--graph", str(graph), "--out", str(tmp_path / "local")]) == 2
    assert _record(user_graphs["url"], graph, tmp_path / "recordings", "refused") == 2
    err = capsys.readouterr().err
    assert "refused to create a batch job" in err and "frobnicate" in err
    assert not (tmp_path / "recordings").exists()
