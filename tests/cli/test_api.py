"""The Python API (hybrid.connect / run / graph / scenes / compare) against the CLI."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import hybrid
from hybrid.errors import UsageError

WINDOW = {"start": "2023-06-01", "end": "2023-06-15"}


def test_version_and_a_light_import():
    assert hybrid.__version__ == version("hybrid")
    heavy = "('xarray', 'openeo', 'dask')"
    code = f"import hybrid, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    cli = subprocess.run(
        [sys.executable, "-m", "hybrid", "--version"], capture_output=True, text=True, check=True
    )
    assert cli.stdout.strip() == f"hybrid {hybrid.__version__}"


def test_graph_takes_the_cli_options(sample_catalog):
    week = hybrid.graph(period="week", max_cloud_cover=35.5, cloud_classes=[3, 8, 9], **WINDOW)
    cli = subprocess.run(
        [sys.executable, "-m", "hybrid", "graph", "--period", "week", "--max-cloud-cover",
         "35.5", "--cloud-classes", "3,8,9", "--start", WINDOW["start"], "--end", WINDOW["end"]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    import json

    assert week == json.loads(cli.stdout)
    with pytest.raises(UsageError, match="unknown option 'perod'"):
        hybrid.graph(perod="week")
    with pytest.raises(UsageError, match="period"):
        hybrid.graph(period="fortnight")


@pytest.mark.slow
def test_run_returns_the_cli_result_and_compare_says_so(sample_catalog, tmp_path):
    ds = hybrid.run(stac=str(sample_catalog), **WINDOW)
    assert isinstance(ds, xr.Dataset) and set(ds.dims) >= {"t", "y", "x"}
    out = tmp_path / "cli.nc"
    subprocess.run(
        [sys.executable, "-m", "hybrid", "run", "--stac", str(sample_catalog), "--out", str(out),
         "--start", WINDOW["start"], "--end", WINDOW["end"], "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    on_disk = xr.load_dataset(out, engine="h5netcdf")
    np.testing.assert_array_equal(ds["var"].values, on_disk["var"].values)
    assert ds["t"].values.tolist() == on_disk["t"].values.tolist()
    report = hybrid.compare(out, ds, atol=0)
    assert report and report.equivalent
    assert "EQUIVALENT" in str(report) and report._repr_html_().startswith("<pre>")
    shifted = ds.copy(deep=True)
    shifted["var"].values[0, :5, :5] += 0.5
    differs = hybrid.compare(out, shifted)
    assert not differs and "NOT EQUIVALENT" in str(differs)


@pytest.mark.slow
def test_connect_local_runs_client_code_and_matches_run(sample_catalog, tmp_path):
    con = hybrid.connect("local", stac=str(sample_catalog), data_dir=tmp_path / "serve")
    try:
        assert "SENTINEL2_L2A" in [c["id"] for c in con.list_collections()]
        graph = hybrid.graph(stac=str(sample_catalog), **WINDOW)
        result = tmp_path / "batch.nc"
        con.create_job({"process_graph": graph}).start_and_wait(print=lambda *a, **k: None)
        job = con.list_jobs()[0]
        con.job(job["id"]).get_results().download_file(result)
        assert hybrid.compare(result, hybrid.run(stac=str(sample_catalog), **WINDOW), atol=0)
    finally:
        hybrid.api.stop_local()


def test_run_refuses_formats_it_cannot_return(sample_catalog):
    with pytest.raises(UsageError, match="netCDF only"):
        hybrid.run(format="GTiff")


def test_aoi_as_a_dict_or_a_path(sample_catalog, tmp_path, seed_aoi):
    import json

    path = Path(tmp_path / "aoi.geojson")
    path.write_text(json.dumps(seed_aoi))
    assert hybrid.graph(aoi=seed_aoi, **WINDOW) == hybrid.graph(aoi=path, **WINDOW)
    with pytest.raises(UsageError):
        hybrid.graph(aoi={"type": "Point", "coordinates": [6.6, 45.2]})


@pytest.mark.slow
def test_first_run_says_the_sample_is_being_generated(tmp_path):
    env = {**__import__("os").environ, "HYBRID_CACHE_DIR": str(tmp_path / "cache")}
    code = "from hybrid.sample import ensure_sample; ensure_sample()"
    first = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert first.stderr.count("\n") == 1 and "generating the embedded" in first.stderr
    again = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert again.stderr == ""
