"""The openeo client's ``DataCube.aspect()`` and ``DataCube.slope()`` against ``hybrid
serve``: the GeoTIFF holds float64 bands named ``<band>_aspect``/``<band>_slope``
whose cells are the engine's surface calculation of the bands downloaded from the same
server (a batch job and a synchronous request alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from hybrid.backends.local.processes import terrain
from tests.workflows.raw import BBOX, DATES


def _bands(connection: Any) -> Any:
    """The first valid value of B04 and B08 over a few weeks (int16, gaps where cloudy)."""
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    ).reduce_dimension("t", reducer="first")


def _read(path: Path) -> xr.DataArray:
    with rasterio.open(path) as ds:
        values = ds.read().astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            values[values == ds.nodata] = np.nan
        t = ds.transform
        rows, cols = np.arange(ds.height) + 0.5, np.arange(ds.width) + 0.5
        cube = xr.DataArray(
            values,
            dims=("bands", "y", "x"),
            coords={"bands": list(ds.descriptions), "y": t.f + t.e * rows, "x": t.c + t.a * cols},
            attrs={"crs": ds.crs.to_wkt(), "dtype": ds.dtypes[0]},
        )
    return cube


@pytest.fixture(scope="module")
def elevations(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> xr.DataArray:
    path = tmp_path_factory.mktemp("terrain") / "bands.tif"
    _bands(connection).download(path, format="GTiff")
    return _read(path)


@pytest.mark.parametrize("process", ["aspect", "slope"])
def test_the_client_gets_float64_bands_of_the_surface(
    connection: Any, elevations: xr.DataArray, process: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{process}.tif"
    getattr(_bands(connection), process)().download(path, format="GTiff")
    got = _read(path)
    assert got.attrs["dtype"] == "float64"
    assert list(got["bands"].values) == [f"B04_{process}", f"B08_{process}"]
    want = getattr(terrain, process)(elevations).values
    assert np.isfinite(want).mean() > 0.5  # gaps and flats are NaN
    np.testing.assert_array_equal(got.values, want)


@pytest.mark.slow
def test_a_batch_job_writes_the_same_slope(
    connection: Any, elevations: xr.DataArray, tmp_path: Path
) -> None:
    job = _bands(connection).slope().save_result(format="GTiff").create_job(title="slope")
    job.start_and_wait(max_poll_interval=0.5, print=lambda *_: None)
    paths = job.get_results().download_files(tmp_path)
    (tif,) = [p for p in paths if p.suffix == ".tif"]
    np.testing.assert_array_equal(_read(tif).values, terrain.slope(elevations).values)
