"""A resample_spatial in the load that shrinks a file: the kernel GDAL gives it.

Copernicus reads SENTINEL2_L2A's files (JPEG 2000) through GDAL's warper at the new
pixel size with the method (openeo-geotrellis-extensions 2a25a26e FileLayerProvider.scala
``rasterSource`` L1426-1437, ``GDALRasterSource`` + ``GDALWarpOptions``; the method from
openeo-geopyspark-driver 9baf2e10 ``datacube_parameters.py`` L74), without a kernel
scale, so GDAL widens the bilinear/cubic/lanczos kernel by the shrink factor. The
expectation is rasterio warping the file with GDAL's defaults onto the result's grid
(:func:`tests.server.test_server_resample_file_pixels._warped`), for a 10 m band (B04)
and a 20 m one (CDSE's B01).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server.test_server_resample_file_pixels import SCENES, SIDE, X0, Y0, _lonlat, _warped
from tests.server_helpers import local_connection


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import json

    from tests.server.test_server_resample_file_pixels import _item

    root = tmp_path_factory.mktemp("kernel")
    collection = {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": "sentinel-2-l2a",
        "description": "one scene in the CDSE layout",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [_lonlat(X0, Y0 - SIDE, X0 + SIDE, Y0)]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [_item(root, "cdse")],
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("kernel_data"), catalog) as connected:
        yield connected


def _resampled(connection: Any, band: str, res: int, method: str, path: Path) -> xr.DataArray:
    _, day, _ = SCENES["cdse"]
    west, south, east, north = _lonlat(X0 + 400, Y0 - SIDE + 400, X0 + SIDE - 400, Y0 - 400)
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent={"west": west, "south": south, "east": east, "north": north},
        temporal_extent=[day, f"{day[:-2]}{int(day[-2:]) + 1:02d}"],
        bands=[band],
    )
    cube.resample_spatial(res, method=method).download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds[band].isel(t=0).load()


#: band -> its file (the finest asset holding it)
FILES = {"B04": "B04_10m", "B01": "B01_20m"}
#: openEO method -> rasterio's name, where they differ
RASTERIO = {"near": "nearest", "cubicspline": "cubic_spline"}


@pytest.mark.parametrize(
    ("band", "res", "method"),
    [
        ("B04", 20, "bilinear"),
        ("B04", 60, "bilinear"),
        ("B04", 60, "cubic"),
        ("B04", 30, "lanczos"),
        ("B01", 60, "bilinear"),
        ("B01", 60, "cubic"),
        ("B01", 40, "cubicspline"),
    ],
)
def test_a_shrinking_kernel_is_widened_as_gdal_widens_it(
    connection: Any, catalog: Path, tmp_path: Path, band: str, res: int, method: str
) -> None:
    item_id = SCENES["cdse"][0]
    got = _resampled(connection, band, res, method, tmp_path / "k.nc")
    href = catalog.parent / item_id / f"{FILES[band]}.tif"
    want = _warped(href, got, res, RASTERIO.get(method, method))
    values = got.transpose("y", "x").values
    assert np.isfinite(want).all() and values.size >= 16
    np.testing.assert_array_equal(values, want)
    one_pixel = _warped(
        href, got, res, RASTERIO.get(method, method), XSCALE=1, YSCALE=1
    )  # odc-geo's kernel
    assert (one_pixel != want).mean() > 0.5


@pytest.mark.parametrize("method", ["near", "average", "min", "max", "med", "mode"])
@pytest.mark.parametrize(("band", "res"), [("B04", 60), ("B01", 60), ("B04", 20)])
def test_footprint_methods_read_the_file_pixels_a_new_pixel_covers(
    connection: Any, catalog: Path, tmp_path: Path, band: str, res: int, method: str
) -> None:
    """near and the footprint methods take no kernel scale: the file's pixels the new
    one covers (near: the one at its centre), as GDAL's warp of the file."""
    item_id = SCENES["cdse"][0]
    got = _resampled(connection, band, res, method, tmp_path / "f.nc")
    href = catalog.parent / item_id / f"{FILES[band]}.tif"
    want = _warped(href, got, res, RASTERIO.get(method, method))
    values = got.transpose("y", "x").values
    assert np.isfinite(want).all()
    if method == "average":  # a mean of exactly k + 0.5 rounds either way (float error)
        tie = _exact_ties(href, got, res)
        assert np.abs(values - want)[tie].max(initial=0) <= 1 and tie.mean() < 0.5
        values, want = values[~tie], want[~tie]
    np.testing.assert_array_equal(values, want)


def _exact_ties(href: Path, got: xr.DataArray, res: int) -> Any:
    """Where the mean of the file pixels in each pixel of ``got`` is a whole number plus
    one half (integer sums of the file's blocks, the new pixel a multiple of the file's)."""
    import rasterio

    with rasterio.open(href) as src:
        dn, pixel = src.read(1).astype(np.int64), src.res[0]
    k = round(res / pixel)
    cols = np.rint((got["x"].values - res / 2 - X0) / pixel).astype(int)
    rows = np.rint((Y0 - got["y"].values - res / 2) / pixel).astype(int)
    sums = np.add.reduceat(
        np.add.reduceat(dn, np.arange(0, dn.shape[0], k), 0), np.arange(0, dn.shape[1], k), 1
    )
    blocks = sums[np.ix_(rows // k, cols // k)]
    assert (rows % k == 0).all() and (cols % k == 0).all()
    return ((2 * blocks) % (k * k) == 0) & (blocks % (k * k) != 0)
