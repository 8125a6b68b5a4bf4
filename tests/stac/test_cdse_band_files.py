"""Which file of a CDSE STAC item each SENTINEL2_L2A band is read from, and its values,
as Copernicus's load_stac path reads them (openeo-geopyspark-driver 9baf2e10
``openeogeotrellis/load_stac.py``).

A CDSE item holds most bands in several files, ``<band>_<res>m`` (the real item in the
driver's ``tests/data/stac/issue1547-inconsistent-nodata-handling``: ``B01_20m``,
``B01_60m``, ``AOT_10m``/``_20m``/``_60m``, ``WVP_10m``...). Copernicus visits the
assets by ``gsd`` then asset id and skips an asset whose bands an earlier one gave
(L325-335, L372-374), so B01 comes from its 20 m file. The BOA offset is added only to
assets whose band metadata has a centre wavelength (``_is_sentinel2_reflectance_asset``
L2319-2328, ``_get_pixel_value_scale_and_offset`` L2331-2353, the
``S2_REFLECTANCE_SCALED_OFFSET`` mode of the CDSE URL, L2289-2316): AOT and WVP keep
their DN although they declare ``raster:scale`` 0.001, SCL its classes.

The tiny scene's files hold one DN each, different per file, so the loaded value names
the file it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.grid import BBox
from tests.stac_fixtures import TINY_SIZE, TINY_X0, TINY_Y0, tiny_bbox, write_tiny_band

ITEM_ID = "S2A_MSIL2A_20230502T103031_N0510_R108_T32TLR_20240319T154011"
#: asset key -> stored DN (reflectance files of baseline 05.10: 1000 above the value)
FILES = {
    "B01_20m": 1700,
    "B01_60m": 1900,
    "B04_10m": 2500,
    "B04_20m": 2600,
    "AOT_10m": 123,
    "AOT_20m": 456,
    "WVP_10m": 1500,
    "WVP_20m": 1600,
    "SCL_20m": 4,
    "SCL_60m": 5,
    "B09_60m": 2000,
}
#: band -> centre wavelength (um) of its STAC 1.1 band entry; None: no wavelength
_WAVELENGTHS = {"B01": 0.443, "B04": 0.665, "B09": 0.945, "AOT": None, "WVP": None, "SCL": None}


def _b09(n: int) -> np.ndarray:
    """The 60 m B09 file: a DN per pixel, 2000 + 10 x row + column."""
    rows, cols = np.mgrid[0:n, 0:n]
    return (FILES["B09_60m"] + 10 * rows + cols).astype(np.uint16)


def _asset(key: str, path: Path) -> dict[str, Any]:
    band, res = key.split("_")[0], int(key.split("_")[1][:-1])
    n = -(-TINY_SIZE * 10 // res)
    dtype = np.uint8 if band == "SCL" else np.uint16
    values = _b09(n) if band == "B09" else np.full((n, n), FILES[key], dtype=dtype)
    write_tiny_band(path / f"{key}.tif", values, res)
    asset: dict[str, Any] = {
        "href": f"./{key}.tif",
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "gsd": res,
        "nodata": 0,
        "data_type": str(np.dtype(dtype)),
        "proj:code": "EPSG:32632",
        "proj:shape": [n, n],
        "proj:transform": [res, 0, TINY_X0, 0, -res, TINY_Y0],
    }
    wavelength = _WAVELENGTHS[band]
    if band != "SCL":
        entry: dict[str, Any] = {"name": band}
        if wavelength is not None:
            entry["eo:center_wavelength"] = wavelength
        asset["bands"] = [entry]
        reflectance = wavelength is not None
        asset |= {"raster:scale": 0.0001 if reflectance else 0.001}
        asset |= {"raster:offset": -0.1 if reflectance else 0}
    return asset


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdse_files")
    folder = root / ITEM_ID
    folder.mkdir()
    west, south, east, north = tiny_bbox()
    item = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": ITEM_ID,
        "collection": "sentinel-2-l2a",
        "bbox": [west, south, east, north],
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[west, south], [east, south], [east, north], [west, north], [west, south]]
            ],
        },
        "properties": {
            "datetime": "2023-05-02T10:30:31Z",
            "eo:cloud_cover": 5.0,
            "gsd": 10,
            "grid:code": "MGRS-32TLR",
            "processing:version": "05.10",
            "proj:code": "EPSG:32632",
        },
        "assets": {key: _asset(key, folder) for key in FILES},
        "links": [{"rel": "collection", "href": "../collection.json"}],
    }
    (folder / f"{ITEM_ID}.json").write_text(json.dumps(item))
    collection = {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": "sentinel-2-l2a",
        "description": "one tiny scene in the CDSE layout",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[west, south, east, north]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [{"rel": "item", "href": f"./{ITEM_ID}/{ITEM_ID}.json"}],
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path


def _loaded(catalog: Path, bands: tuple[str, ...]) -> dict[str, list[float]]:
    """Each band's distinct loaded values inside the scene."""
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    box = BBox(west + dx, south + dy, east - dx, north - dy)
    cube = load_s2(str(catalog), LoadRequest(box, "2023-05-01", "2023-05-10", bands, None)).cube
    values = cube.compute()
    return {b: sorted(set(np.unique(values.sel(bands=b).values).tolist())) for b in bands}


def test_b01_comes_from_its_20m_file_as_copernicus_reads_it(catalog: Path) -> None:
    """B01_20m (gsd 20) is visited before B01_60m, which adds no band; the DN 1700 of
    the 20 m file less the BOA offset: 700 (the 60 m file would give 900)."""
    assert _loaded(catalog, ("B01", "B04")) == {"B01": [700.0], "B04": [1500.0]}


def test_aot_wvp_and_scl_keep_their_dn(catalog: Path) -> None:
    """No offset and no scale on the bands without a centre wavelength, each from its
    finest file: AOT 123 (not 0.123, not -877), WVP 1500, SCL class 4."""
    got = _loaded(catalog, ("AOT", "WVP", "SCL"))
    assert got == {"AOT": [123.0], "WVP": [1500.0], "SCL": [4.0]}


def test_a_60m_band_is_warped_to_10m_by_nearest_neighbour(catalog: Path) -> None:
    """B09 has only its 60 m file; each 10 m pixel gets the value of the 60 m pixel its
    centre lies in, less the BOA offset: the load's ``resample_method``, "near" by
    default (openeo-python-driver 9e5b49b2 ``openeo_driver/backend.py`` L186), set on
    the data cube parameters (openeo-geopyspark-driver 9baf2e10
    ``openeogeotrellis/datacube_parameters.py`` L74, ``geopysparkdatacube.py`` L1694-1696
    NEAREST_NEIGHBOR)."""
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    box = BBox(west + dx, south + dy, east - dx, north - dy)
    request = LoadRequest(box, "2023-05-01", "2023-05-10", ("B09",), None)
    cube = load_s2(str(catalog), request).cube.compute().isel(t=0).sel(bands="B09")
    cols = np.floor((cube["x"].values - TINY_X0) / 60).astype(int)
    rows = np.floor((TINY_Y0 - cube["y"].values) / 60).astype(int)
    want = FILES["B09_60m"] - 1000 + 10 * rows[:, None] + cols[None, :]
    assert cube.shape == want.shape and cube.shape[0] > 6 and len(set(cols)) > 2
    np.testing.assert_array_equal(cube.values, want)
