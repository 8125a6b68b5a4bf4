"""The ``hybrid`` command line: the main job and its bad-input answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.cli import main


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybrid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_run_prints_table_and_writes_netcdf(sample_catalog, tmp_path):
    out = tmp_path / "ndvi.nc"
    proc = _run(["run", "--stac", str(sample_catalog), "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2023-05-01T00:00:00Z" in proc.stdout
    assert "2023-09-01T00:00:00Z" in proc.stdout
    assert f"result: {out}" in proc.stdout
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["var"].dims == ("t", "y", "x")
        assert ds.sizes["t"] == 5
        assert ds["var"].attrs["grid_mapping"] == "crs"
        assert "crs_wkt" in ds["crs"].attrs and "spatial_ref" in ds["crs"].attrs
        values = ds["var"].values
    finite = values[np.isfinite(values)]
    assert finite.min() >= -1 and finite.max() <= 1
    # Copernicus time encoding: integer days since 1990-01-01
    with xr.open_dataset(out, engine="h5netcdf", decode_times=False) as raw:
        assert raw["t"].attrs["units"] == "days since 1990-01-01"
        assert raw["t"].dtype.kind == "i"
        assert list(raw["t"].values[:2]) == [12173, 12204]  # 2023-05-01, 2023-06-01


def test_graph_prints_the_flat_process_graph(capsys):
    assert main(["graph"]) == 0
    graph = json.loads(capsys.readouterr().out)
    ids = {node["process_id"] for node in graph.values()}
    assert {"load_collection", "apply_kernel", "mask", "ndvi"} <= ids
    assert {"aggregate_temporal_period", "save_result"} <= ids
    load = next(n for n in graph.values() if n["process_id"] == "load_collection")
    assert load["arguments"]["bands"] == ["B04", "B03", "B02", "B08", "SCL"]
    assert load["arguments"]["temporal_extent"] == ["2023-05-01", "2023-09-30"]


def test_graph_uses_only_openeo_processes(capsys, shared_dir):
    """Every process of the graph is an openEO 1.2 process."""
    folder = shared_dir / "openeo-spec" / "processes"
    if not folder.is_dir():
        pytest.skip("../shared/openeo-spec/processes is absent")
    main(["graph"])
    graph = json.loads(capsys.readouterr().out)
    names = {p.stem for p in folder.glob("*.json")}
    # the predefined processes not in shared/ (comparisons, logic) are from openEO 1.2 too
    from hybrid.backends.local.registry import process_spec

    def walk(g: dict) -> set[str]:
        found = set()
        for node in g.values():
            found.add(node["process_id"])
            for arg in node["arguments"].values():
                if isinstance(arg, dict) and "process_graph" in arg:
                    found |= walk(arg["process_graph"])
        return found

    for pid in walk(graph):
        assert pid in names or process_spec(pid)["id"] == pid


BAD_INPUT = {
    "end-before-start": (["--start", "2023-06-01", "--end", "2023-05-01"], "before --start"),
    "equal-dates": (["--start", "2023-06-01", "--end", "2023-06-01"], "end is excluded"),
    "malformed-date": (["--start", "2023-13-45"], "is not a date"),
    "future": (["--start", "2999-01-01", "--end", "2999-02-01"], "in the future"),
    "even-kernel": (["--kernel-size", "10"], "odd"),
    "unknown-period": (["--period", "fortnight"], "--period"),
    "unknown-reducer": (["--reducer", "mode"], "--reducer"),
    "threshold": (["--threshold", "1.5"], "--threshold"),
    "cloud-classes": (["--cloud-classes", "8,x"], "--cloud-classes"),
    "missing-catalog": (["--stac", "/nonexistent/catalog.json"], "not found"),
    "missing-aoi": (["--aoi", "/nonexistent/aoi.geojson"], "AOI file not found"),
    "format": (["--format", "JPEG"], "--format"),
    # writable by the graph but not read back for the table (it was a NetCDF read error
    # after a PNG was written)
    "format-not-summarised": (["--format", "PNG"], "netCDF or GTiff"),
    "typo": (["--perod", "month"], "did you mean --period? (see 'hybrid run --help')"),
    "workers-and-scheduler": (
        ["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"],
        "give one",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2(case, tmp_path, capsys):
    args, expected = BAD_INPUT[case]
    out = tmp_path / "out.nc"
    code = main(["run", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name != "out.nc"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


AOI_CASES = {
    "not-json": ("{not json", "not valid JSON"),
    "point": ('{"type": "Point", "coordinates": [6.6, 45.2]}', "Polygon or MultiPolygon"),
    "self-intersecting": (
        '{"type": "Polygon", "coordinates": [[[6.65, 45.22], [6.67, 45.26], [6.67, 45.22], '
        "[6.65, 45.26], [6.65, 45.22]]]}",
        "invalid geometry",
    ),
    "projected-coordinates": (
        '{"type": "Polygon", "coordinates": [[[315860, 5010670], [317610, 5010670], '
        "[317610, 5014980], [315860, 5010670]]]}",
        "not longitude/latitude",
    ),
    "absurdly-large": (
        '{"type": "Polygon", "coordinates": [[[0, 40], [20, 40], [20, 50], [0, 50], [0, 40]]]}',
        "split it",
    ),
    "empty-collection": ('{"type": "FeatureCollection", "features": []}', "no feature"),
}


@pytest.mark.parametrize("case", list(AOI_CASES))
def test_bad_aoi_is_one_line_exit_2(case, tmp_path, capsys):
    text, expected = AOI_CASES[case]
    aoi = _write(tmp_path / "aoi.geojson", text)
    code = main(["run", "--aoi", str(aoi), "--out", str(tmp_path / "x.nc")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err and err.count("\n") == 1
    assert not (tmp_path / "x.nc").exists()


def test_aoi_without_scenes_is_no_data_available(sample_catalog, tmp_path, capsys):
    aoi = _write(
        tmp_path / "far.geojson",
        '{"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.01, 50.0], [10.01, 50.01], '
        "[10.0, 50.01], [10.0, 50.0]]]}",
    )
    out = tmp_path / "x.nc"
    code = main(["run", "--stac", str(sample_catalog), "--aoi", str(aoi), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "no data available" in err and err.count("\n") == 1
    assert not out.exists()


def test_existing_output_is_not_overwritten(sample_catalog, tmp_path, capsys):
    out = _write(tmp_path / "exists.nc", "keep me")
    code = main(["run", "--stac", str(sample_catalog), "--out", str(out)])
    assert code == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == "keep me"


def test_unknown_collection_and_band_are_rejected(sample_catalog, tmp_path):
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import BandNotFound, CollectionNotFound
    from hybrid.params import Workflow
    from hybrid.sample import SEED_AOI
    from hybrid.workflow_graph import build_graph

    graph = build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-07-01"))
    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
    wrong = json.loads(json.dumps(graph))
    wrong["loadcollection1"]["arguments"]["id"] = "SENTINEL3_OLCI"
    with pytest.raises(CollectionNotFound, match="SENTINEL3_OLCI"):
        backend.execute(wrong, out_dir=tmp_path / "a")
    wrong = json.loads(json.dumps(graph))
    wrong["loadcollection1"]["arguments"]["bands"] = ["B04", "B99", "SCL"]
    with pytest.raises(BandNotFound, match="B99"):
        backend.execute(wrong, out_dir=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
