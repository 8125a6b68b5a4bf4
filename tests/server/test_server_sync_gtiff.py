"""A synchronous GTiff of a cube with dates is one GeoTIFF, as on Copernicus.

Copernicus turns the cube into a spatial layer outside batch jobs (one date per tile,
which one undefined; ``hybrid/server/sync_result.py``); here it is the first date. A
real server (uvicorn in a thread) over the real ``LocalBackend``, the openeo client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.server_helpers import SEED_BBOX, TEMPORAL_EXTENT, local_server


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    import openeo

    with local_server(tmp_path_factory.mktemp("sync-gtiff") / "data", sample_catalog) as server:
        yield openeo.connect(server.url).authenticate_basic("hybrid", "hybrid")


def _cube(connection: Any) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=SEED_BBOX,
        temporal_extent=TEMPORAL_EXTENT,
        bands=["B04", "B08"],
    )


def test_a_cube_with_dates_downloads_as_the_first_date(connection: Any, tmp_path: Path) -> None:
    import rasterio
    import xarray as xr

    cube = _cube(connection)
    cube.download(tmp_path / "all.nc", format="netCDF")
    cube.download(tmp_path / "one.tif", format="GTiff")
    with xr.open_dataset(tmp_path / "all.nc") as dataset:
        assert dataset.sizes["t"] > 1  # a cube with dates
        first = np.stack([dataset[band].isel(t=0).values for band in ("B04", "B08")])
        later = np.stack([dataset[band].isel(t=1).values for band in ("B04", "B08")])
    with rasterio.open(tmp_path / "one.tif") as src:
        assert src.descriptions == ("B04", "B08")
        values = src.read()
    np.testing.assert_array_equal(values, first)
    assert not np.array_equal(values, later)


def test_one_file_per_band_and_date_is_refused_in_one_line(connection: Any, tmp_path: Path) -> None:
    import openeo

    cube = _cube(connection).save_result("GTiff", options={"separate_asset_per_band": True})
    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        cube.download(tmp_path / "bands.tif")
    assert caught.value.http_status_code == 400
    assert caught.value.code == "FormatUnsuitable"
    assert "files (openEO_2023-06-" in caught.value.message
    assert "use save_result format 'netCDF', or a batch job" in caught.value.message
    assert not list(tmp_path.iterdir())
