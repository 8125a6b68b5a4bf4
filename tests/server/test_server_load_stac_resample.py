"""A resample_spatial right after a load_stac is done in the load, as Copernicus does it.

The dry run hands the resample to the load_stac (openeo-python-driver 9e5b49b2
``dry_run.py`` L155-171), which sets its cell size to the target resolution
(openeo-geopyspark-driver 9baf2e10 ``load_stac.py`` L671-674): the load's layout is on
multiples of the new pixel size (openeo-geotrellis-extensions 2a25a26e
DatacubeSupport.scala ``getLayout`` L58-62), where a resample on the cube keeps the
load layout's west and south edges. Its GeoTIFF files are resampled by geotrellis
(FileLayerProvider.scala ``rasterSource`` L1446-1484, GeoTiffResampleRasterSource),
whose bilinear kernel is the 2 x 2 source pixels around a new pixel's centre whatever
the scale: GDAL's bilinear with ``XSCALE=YSCALE=1``. The expectation is rasterio warping
the user's file onto the result's pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import local_connection
from tests.user_stac import X0, Y0, write_user_collection

#: rows, columns of the file: from the tile corner over the items' footprint
SHAPE = (340, 200)
BAND = {"raster:bands": [{"data_type": "uint16", "nodata": 0}]}


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("stac_resample") / "data") as connected:
        yield connected


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    values = np.random.default_rng(7).integers(1100, 4000, SHAPE).astype(np.uint16)
    return write_user_collection(tmp_path_factory.mktemp("user") / "stac", values, tag=0, band=BAND)


def _resampled(connection: Any, url: Path, res: int, method: str, path: Path) -> xr.DataArray:
    """The user's band loaded over an extent off the ``res`` lattice (west and north 10 m
    past a multiple of 20 m), resampled right after the load."""
    extent = {"west": X0 + 1210, "south": Y0 - 3010, "east": X0 + 1690, "north": Y0 - 2530}
    cube = connection.load_stac(
        str(url),
        spatial_extent={**extent, "crs": "EPSG:32632"},
        temporal_extent=["2024-01-01", "2025-01-01"],
    )
    cube.resample_spatial(res, method=method).download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        name = next(n for n in ds.data_vars if n != "crs")
        return ds[name].isel(t=0).load()


def _warped(
    url: Path, got: xr.DataArray, res: int, method: str, file: str = "v.tif", **options: Any
) -> Any:
    """The user's ``file`` warped by GDAL onto the pixels of ``got`` (float64)."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    x, y = got["x"].values, got["y"].values
    out = np.full((y.size, x.size), np.nan)
    with rasterio.open(url.parent / file) as src:
        reproject(
            source=rasterio.band(src, 1), destination=out, src_nodata=0, dst_nodata=np.nan,
            dst_transform=Affine(res, 0, x[0] - res / 2, 0, -res, y[0] + res / 2),
            dst_crs=src.crs, resampling=getattr(Resampling, method), **options,
        )  # fmt: skip
    return out


@pytest.mark.parametrize(("res", "method"), [(20, "nearest"), (20, "bilinear"), (40, "bilinear")])
def test_a_resample_after_load_stac_is_read_on_multiples_of_the_new_pixel(
    connection: Any, collection: Path, tmp_path: Path, res: int, method: str
) -> None:
    got = _resampled(
        connection, collection, res, method.replace("nearest", "near"), tmp_path / "r.nc"
    )
    x, y = got["x"].values, got["y"].values
    assert x.size >= 8 and y.size >= 8
    np.testing.assert_allclose(np.mod(x - res / 2, res), 0, atol=1e-6)
    np.testing.assert_allclose(np.mod(y - res / 2, res), 0, atol=1e-6)
    want = np.floor(_warped(collection, got, res, method, XSCALE=1, YSCALE=1) + 0.5)
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(got.transpose("y", "x").values, want)
    if method != "nearest":  # not GDAL's kernel widened by the shrink factor
        assert (np.floor(_warped(collection, got, res, method) + 0.5) != want).mean() > 0.5


def test_an_integer_average_in_load_stac_is_truncated_as_geotrellis_truncates(
    connection: Any, collection: Path, tmp_path: Path
) -> None:
    """geotrellis's AverageResample stores an integer tile's mean with ``toInt``
    (locationtech/geotrellis v3.7.1 AverageResample.scala L40-43): 2 x 2 means of the
    uint16 file truncated, not rounded as GDAL rounds into a JP2's type."""
    got = _resampled(connection, collection, 20, "average", tmp_path / "a.nc")
    mean = _warped(collection, got, 20, "average")
    assert np.isfinite(mean).all() and (mean % 1 != 0).mean() > 0.5
    np.testing.assert_array_equal(got.transpose("y", "x").values, np.trunc(mean))


#: north-west corner (EPSG:32632) of the user's files inside the embedded Sentinel-2
#: sample, and their side in metres
SAMPLE_ORIGIN, SIDE = (316020.0, 5014020.0), 1200
DATE = "2024-05-01T10:00:00Z"


def _two_resolutions(root: Path) -> Path:
    """A collection of one item with band ``a`` in a 10 m file and ``b`` in a 20 m one
    (uint16 without nodata tag), inside the embedded sample; its ``collection.json``."""
    import json

    from affine import Affine
    from pyproj import Transformer

    from hybrid.sample.cog import write_cog

    x0, y0 = SAMPLE_ORIGIN
    root.mkdir(parents=True)
    assets = {}
    for name, res in (("a", 10), ("b", 20)):
        n = SIDE // res
        values = np.random.default_rng(res).integers(1100, 4000, (n, n)).astype(np.uint16)
        transform = Affine(res, 0, x0, 0, -res, y0)
        write_cog(root / f"{name}.tif", values, transform=transform, crs="EPSG:32632",
                  nodata=None, blocksize=256, resampling="nearest")  # fmt: skip
        assets[name] = {"href": f"./{name}.tif", "type": "image/tiff; application=geotiff",
                        "roles": ["data"], "proj:epsg": 32632, "proj:shape": [n, n],
                        "proj:transform": list(transform)[:6]}  # fmt: skip
    to_lonlat = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lons, lats = to_lonlat.transform([x0, x0 + SIDE] * 2, [y0, y0, y0 - SIDE, y0 - SIDE])
    box = [min(lons), min(lats), max(lons), max(lats)]
    west, south, east, north = box
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    item = {"type": "Feature", "stac_version": "1.0.0", "id": "i", "collection": "two",
            "bbox": box, "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"datetime": DATE}, "assets": assets,
            "links": [{"rel": "collection", "href": "./collection.json"}]}  # fmt: skip
    (root / "i.json").write_text(json.dumps(item))
    collection = {"type": "Collection", "stac_version": "1.0.0", "id": "two",
                  "description": "d", "license": "proprietary",
                  "links": [{"rel": "item", "href": "./i.json", "type": "application/json"}],
                  "extent": {"spatial": {"bbox": [box]},
                             "temporal": {"interval": [[DATE, None]]}}}  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    return root / "collection.json"


def test_a_resample_cube_spatial_after_load_stac_reads_each_file_at_the_targets_pixel(
    connection: Any, tmp_path: Path
) -> None:
    """The dry run hands a resample_cube_spatial's constraint to the load_stac it
    follows (openeo-python-driver 9e5b49b2 ``dry_run.py`` L105-115, L155-171;
    ``process_implementations/io.py`` L318-329, ``load_params.py`` L237-239), whose cell
    size and read become the target's and its method (openeo-geopyspark-driver 9baf2e10
    ``load_stac.py`` L671-674): onto a 10 m SENTINEL2_L2A target with ``bilinear``, the
    user's band ``b`` is interpolated from its 20 m file, not the load's nearest 10 m
    copies of its pixels (resampled on the cube they stay blocks of 2 x 2)."""
    url = _two_resolutions(tmp_path / "stac")
    x0, y0 = SAMPLE_ORIGIN
    extent = {"west": x0 + 200, "south": y0 - 800, "east": x0 + 700, "north": y0 - 300,
              "crs": "EPSG:32632"}  # fmt: skip
    target = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=["2023-06-01", "2023-07-01"],
        bands=["B04"],
    )  # fmt: skip
    cube = connection.load_stac(
        str(url), spatial_extent=extent, temporal_extent=["2024-01-01", "2025-01-01"]
    )
    path = tmp_path / "r.nc"
    cube.resample_cube_spatial(target, method="bilinear").download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        got = ds["b"].isel(t=0).load()
    assert got["x"].size >= 40 and got["y"].size >= 40
    read = _warped(url, got, 10, "bilinear", "b.tif")
    want = np.floor(read + 0.5)
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(got.transpose("y", "x").values, want)
