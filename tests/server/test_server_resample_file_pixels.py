"""A resample_spatial right after the load, with a method other than ``near``, is computed
from the pixels of the file each band was read from, in every provider's layout.

Copernicus hands such a resample to the load (openeo-python-driver 9e5b49b2 ``dry_run.py``
L155-171): load_stac then sets the load's cell size to the target resolution
(openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/load_stac.py`` L671-674) and the
resample method on the read (``datacube_parameters.py`` L74), and each band's file is
warped by GDAL with that method at that cell size (openeo-geotrellis-extensions 2a25a26e
FileLayerProvider.scala ``rasterSource`` L1426-1484). The file of a band is the finest
asset holding it (load_stac.py L325-335, L372-374): a CDSE item's B01 is ``B01_20m``; an
Earth Search item has B01 only at 60 m (``coastal``). The expectation is rasterio
warping that file onto the result's grid into its uint16 (GDAL rounds), plus the BOA
offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import local_connection

#: north-west corner (EPSG:32632) and side (m) of the scenes' files: on multiples of
#: 60 m, as every Sentinel-2 tile's
X0, Y0, SIDE = 316020.0, 5013000.0, 1440
CDSE_ID = "S2A_MSIL2A_20230502T103031_N0510_R108_T32TLR_20240319T154011"
ES_ID = "S2A_32TLR_20230512_0_L2A"
#: (item id, date, asset key -> pixel size) of each layout; the B01 file read is first
SCENES = {
    "cdse": (CDSE_ID, "2023-05-02", {"B01_20m": 20, "B01_60m": 60, "B04_10m": 10}),
    "earth-search": (ES_ID, "2023-05-12", {"coastal": 60, "red": 10}),
}


def _lonlat(west: float, south: float, east: float, north: float) -> list[float]:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    xs, ys = tr.transform([west, east, east, west], [south, south, north, north])
    return [min(xs), min(ys), max(xs), max(ys)]


def _file(path: Path, key: str, res: int) -> None:
    """A COG of random DN (seeded by the key) at ``res`` metres."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    n = SIDE // res
    values = np.random.default_rng(sum(map(ord, key))).integers(1100, 4000, (n, n))
    transform = Affine(res, 0, X0, 0, -res, Y0)
    write_cog(
        path,
        values.astype(np.uint16),
        transform=transform,
        crs="EPSG:32632",
        nodata=0,
        blocksize=256,
    )


def _asset(key: str, res: int, cdse: bool) -> dict[str, Any]:
    n = SIDE // res
    asset: dict[str, Any] = {
        "href": f"./{key}.tif",
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "proj:shape": [n, n],
        "proj:transform": [res, 0, X0, 0, -res, Y0],
    }
    band = {"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}
    if not cdse:
        return asset | {"raster:bands": [band]}
    name = key.split("_")[0]
    wavelength = {"B01": 0.443, "B04": 0.665}[name]
    entry = {"name": name, "eo:center_wavelength": wavelength}
    asset |= {"gsd": res, "nodata": 0, "data_type": "uint16", "proj:code": "EPSG:32632"}
    return asset | {"bands": [entry], "raster:scale": 0.0001, "raster:offset": -0.1}


def _item(root: Path, layout: str) -> dict[str, Any]:
    item_id, day, files = SCENES[layout]
    cdse = layout == "cdse"
    folder = root / item_id
    folder.mkdir()
    for key, res in files.items():
        _file(folder / f"{key}.tif", key, res)
    west, south, east, north = _lonlat(X0, Y0 - SIDE, X0 + SIDE, Y0)
    properties: dict[str, Any] = {"datetime": f"{day}T10:30:31Z", "eo:cloud_cover": 5.0}
    properties |= {"grid:code": "MGRS-32TLR", "proj:epsg": 32632}
    properties |= {"processing:version": "05.10"} if cdse else {"s2:processing_baseline": "05.09"}
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    item = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "collection": "sentinel-2-l2a" if cdse else "sentinel-2-c1-l2a",
        "bbox": [west, south, east, north],
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": properties,
        "assets": {key: _asset(key, res, cdse) for key, res in files.items()},
        "links": [{"rel": "collection", "href": "../collection.json"}],
    }
    (folder / f"{item_id}.json").write_text(json.dumps(item))
    return {"rel": "item", "href": f"./{item_id}/{item_id}.json"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("file_pixels")
    links = [_item(root, layout) for layout in SCENES]
    collection = {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": "sentinel-2-l2a",
        "description": "one scene in the CDSE layout, one in Earth Search's",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [_lonlat(X0, Y0 - SIDE, X0 + SIDE, Y0)]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("file_pixels_data"), catalog) as connected:
        yield connected


def _resampled(
    connection: Any, day: str, res: int, method: str, path: Path, bands: list[str]
) -> xr.DataArray:
    """B01 of ``bands`` loaded on ``day``, resampled in the load (a filter_bands between
    is no blocker: the load is resampled for its path)."""
    west, south, east, north = _lonlat(X0 + 400, Y0 - SIDE + 400, X0 + SIDE - 400, Y0 - 400)
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent={"west": west, "south": south, "east": east, "north": north},
        temporal_extent=[day, f"{day[:-2]}{int(day[-2:]) + 1:02d}"],
        bands=bands,
    )
    cube = cube if bands == ["B01"] else cube.filter_bands(["B01"])
    cube.resample_spatial(res, method=method).download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds["B01"].isel(t=0).load()


def _warped(href: Path, got: xr.DataArray, res: int, method: str, **options: Any) -> Any:
    """The file warped by GDAL (rasterio's name of the ``method``; GDAL warp
    ``options``) onto the pixels of ``got`` into uint16, plus -1000."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    x, y = got["x"].values, got["y"].values
    out = np.zeros((y.size, x.size), np.uint16)
    with rasterio.open(href) as src:
        reproject(
            source=rasterio.band(src, 1), destination=out, src_nodata=0, dst_nodata=0,
            dst_transform=Affine(res, 0, x[0] - res / 2, 0, -res, y[0] + res / 2),
            dst_crs=src.crs, resampling=getattr(Resampling, method), **options,
        )  # fmt: skip
    return np.where(out == 0, np.nan, out - 1000.0)


@pytest.mark.parametrize(
    ("layout", "res", "method"),
    [
        ("cdse", 20, "bilinear"),
        ("cdse", 20, "cubic"),
        ("cdse", 20, "average"),
        ("cdse", 60, "average"),
        ("earth-search", 20, "bilinear"),
        ("earth-search", 60, "average"),
    ],
)
def test_b01_is_resampled_from_the_file_it_was_read_from(
    connection: Any, catalog: Path, tmp_path: Path, layout: str, res: int, method: str
) -> None:
    item_id, day, files = SCENES[layout]
    got = _resampled(connection, day, res, method, tmp_path / "b01.nc", ["B01"])
    key = next(iter(files))
    want = _warped(catalog.parent / item_id / f"{key}.tif", got, res, method)
    values = got.transpose("y", "x").values
    assert np.isfinite(want).all() and values.size >= 16
    np.testing.assert_array_equal(values, want)
    if layout == "cdse":  # the 60 m file (Earth Search's only one) is another image
        other = _warped(catalog.parent / item_id / "B01_60m.tif", got, res, method)
        assert (other != want).mean() > 0.5


def test_a_band_filter_between_resamples_the_file_once(
    connection: Any, catalog: Path, tmp_path: Path
) -> None:
    """``filter_bands`` between the load and the resample: the load is resampled for
    that path (from B01's 20 m file) and the resample after the filter changes nothing
    more (its cube's pixels are no file's copies any more)."""
    item_id, day, _ = SCENES["cdse"]
    got = _resampled(connection, day, 20, "cubic", tmp_path / "f.nc", ["B01", "B04"])
    want = _warped(catalog.parent / item_id / "B01_20m.tif", got, 20, "cubic")
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(got.transpose("y", "x").values, want)


@pytest.mark.parametrize(
    ("start", "end", "pixel"),
    [
        ("2023-05-02", "2023-05-03", 20.0),  # CDSE: B01_20m
        ("2023-05-12", "2023-05-13", 60.0),  # Earth Search: coastal, 60 m only
        ("2023-05-01", "2023-05-13", 20.0),  # both: the finest, whose lattice holds both
    ],
)
def test_the_load_records_the_file_pixel_of_each_band(
    catalog: Path, start: str, end: str, pixel: float
) -> None:
    from hybrid.backends.local.file_pixels import FILE_PIXELS
    from hybrid.backends.local.loader import LoadRequest, load_s2
    from hybrid.grid import BBox

    box = BBox(*_lonlat(X0 + 400, Y0 - SIDE + 400, X0 + SIDE - 400, Y0 - 400))
    cube = load_s2(str(catalog), LoadRequest(box, start, end, ("B01", "B04"), None)).cube
    assert cube.attrs[FILE_PIXELS] == {"B01": pixel, "B04": 10.0}
